// manifest.json of a docker-archive: parse it and pick the image a reference asks for.
import { BadReferenceError, CorruptInputError, NotFoundError } from "../../src/errors.js";
import { formatNamedTagged, parseNamedTagged, type NamedTagged } from "./docker-reference.js";

export interface ArchiveManifestItem {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

export function parseArchiveManifest(bytes: Uint8Array, label: string): ArchiveManifestItem[] {
  const bad = (why: string): CorruptInputError => new CorruptInputError(`${label}: manifest.json ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new CorruptInputError(`${label}: manifest.json is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (!Array.isArray(parsed)) throw bad("is not a JSON array of images");
  if (parsed.length === 0) throw bad("lists no images");
  return parsed.map((raw: unknown, i): ArchiveManifestItem => {
    const item = raw as Record<string, unknown> | null;
    if (typeof item !== "object" || item === null) throw bad(`entry ${i} is not an object`);
    const { Config, RepoTags, Layers } = item;
    if (typeof Config !== "string" || Config === "") throw bad(`entry ${i} has no "Config" file name`);
    if (!Array.isArray(Layers) || !Layers.every((l) => typeof l === "string" && l !== "")) {
      throw bad(`entry ${i} has no valid "Layers" list of file names`);
    }
    if (RepoTags != null && !(Array.isArray(RepoTags) && RepoTags.every((t) => typeof t === "string"))) {
      throw bad(`entry ${i} has an invalid "RepoTags" list`);
    }
    return { Config, Layers: Layers as string[], RepoTags: (RepoTags as string[] | null | undefined) ?? [] };
  });
}

/** The image that `named` or `index` selects; the only image when neither is given. */
export function chooseManifestItem(
  items: ArchiveManifestItem[],
  select: { named: NamedTagged | undefined; index: number | undefined },
  label: string,
): ArchiveManifestItem {
  if (select.index !== undefined) {
    const item = items[select.index];
    if (!item) throw new NotFoundError(`${label}: no image @${select.index}: the archive holds ${items.length} (@0 to @${items.length - 1})`);
    return item;
  }
  if (select.named) {
    const wanted = formatNamedTagged(select.named);
    const found = items.find((item) => item.RepoTags.some((tag) => normalizedTag(tag) === wanted));
    if (!found) throw new NotFoundError(`${label}: no image tagged ${wanted} (tags in the archive: ${listTags(items)})`);
    return found;
  }
  if (items.length !== 1) {
    throw new BadReferenceError(
      `${label}: the archive holds ${items.length} images; pick one with :NAME:TAG or :@INDEX (tags in the archive: ${listTags(items)})`,
    );
  }
  return items[0]!;
}

function normalizedTag(tag: string): string | undefined {
  try {
    return formatNamedTagged(parseNamedTagged(tag));
  } catch {
    return undefined; // a tag we cannot parse cannot match
  }
}

function listTags(items: ArchiveManifestItem[]): string {
  const tags = items.flatMap((item) => item.RepoTags);
  return tags.length > 0 ? tags.join(", ") : "none";
}
