// Finding what a reference names in a store. container-copy: a container first (name, full id,
// unique id prefix), else an image (name as podman normalises it, id, unique id prefix, NAME@DIGEST,
// the @ID forms). containers-storage: images only, as containers/image resolves them.
import { BadReferenceError, NotFoundError } from "../../../src/errors.js";
import type { ContainerRecord, ImageRecord } from "./record-types.js";
import type { Located, StoreRecords } from "./records.js";
import { resolveStorageImage } from "./resolve-storage-image.js";

export type ResolvedTarget =
  | { kind: "container"; container: Located<ContainerRecord>; image: Located<ImageRecord> | undefined }
  | {
      kind: "image";
      image: Located<ImageRecord>;
      /** The big-data key of the manifest to serve first, when the reference decides it. */
      manifestKey?: string;
      /** The repository the reference named, as skopeo inspect prints it in "Name". */
      dockerName?: string;
    };

const HEX_RE = /^[0-9a-f]+$/;
const DIGEST_SUFFIX_RE = /^(.*)@(sha256:[0-9a-f]{64})$/;

/** Resolves `nameOrId` in the store for transport `transportName`; `storeName` names the store in errors. */
export function resolveTarget(records: StoreRecords, nameOrId: string, storeName: string, transportName = "container-copy"): ResolvedTarget {
  if (transportName === "containers-storage") return { kind: "image", ...resolveStorageImage(records, nameOrId, storeName) };
  const container = findContainer(records.containers, nameOrId, storeName);
  if (container) {
    const imageId = container.record.image;
    const image = imageId ? records.images.find((i) => i.record.id === imageId) : undefined;
    return { kind: "container", container, image };
  }
  const image = findImage(records.images, nameOrId, storeName);
  if (image) return { kind: "image", image };
  // The @ID forms of containers-transports(5) ("@ID", "NAME@ID") name images the way skopeo reads them.
  const missing = new NotFoundError(`no container or image "${nameOrId}" in store ${storeName}`);
  if (!nameOrId.includes("@")) throw missing;
  try {
    return { kind: "image", ...resolveStorageImage(records, nameOrId, storeName) };
  } catch {
    throw missing;
  }
}

export function findContainer(
  containers: Located<ContainerRecord>[],
  nameOrId: string,
  storeName: string,
): Located<ContainerRecord> | undefined {
  const byName = containers.find((c) => c.record.names?.includes(nameOrId));
  if (byName) return byName;
  const id = stripAlgorithm(nameOrId);
  const byId = containers.find((c) => c.record.id === id);
  if (byId) return byId;
  if (!HEX_RE.test(id)) return undefined;
  return unique(containers.filter((c) => c.record.id.startsWith(id)), nameOrId, storeName, "containers");
}

export function findImage(images: Located<ImageRecord>[], nameOrId: string, storeName: string): Located<ImageRecord> | undefined {
  const withDigest = DIGEST_SUFFIX_RE.exec(nameOrId);
  if (withDigest) return findImageByDigest(images, withDigest[1]!, withDigest[2]!, storeName, nameOrId);
  const id = stripAlgorithm(nameOrId);
  const byId = images.find((i) => i.record.id === id);
  if (byId) return byId;
  for (const candidate of imageNameCandidates(nameOrId)) {
    const byName = images.find((i) => i.record.names?.includes(candidate));
    if (byName) return byName;
  }
  const shortMatches = shortNameMatches(images, nameOrId);
  if (shortMatches.length > 0) return unique(shortMatches, nameOrId, storeName, "images");
  if (!HEX_RE.test(id)) return undefined;
  return unique(images.filter((i) => i.record.id.startsWith(id)), nameOrId, storeName, "images");
}

function findImageByDigest(
  images: Located<ImageRecord>[],
  name: string,
  digest: string,
  storeName: string,
  text: string,
): Located<ImageRecord> | undefined {
  const repos = new Set(imageNameCandidates(name).map(repository));
  const short = !isDomain(name);
  const nameMatches = (n: string): boolean => repos.has(repository(n)) || (short && repository(n).endsWith(`/${name}`));
  const matches = images.filter((i) => {
    const hasDigest = i.record.digest === digest || (i.record["big-data-names"] ?? []).includes(`manifest-${digest}`);
    return hasDigest && (name === "" || (i.record.names ?? []).some(nameMatches));
  });
  return matches.length > 0 ? unique(matches, text, storeName, "images") : undefined;
}

/**
 * The names an image reference may be stored under, most likely first, the way podman looks up
 * local images: as typed, then with ":latest" added and "localhost/" or "docker.io/library/" in
 * front of an unqualified name.
 */
export function imageNameCandidates(input: string): string[] {
  let name = input;
  let tag = "latest";
  const colon = input.lastIndexOf(":");
  if (colon > input.lastIndexOf("/")) {
    name = input.slice(0, colon);
    tag = input.slice(colon + 1);
  }
  const out = [input];
  const first = name.split("/")[0] ?? "";
  if (isDomain(name)) {
    let n = first === "index.docker.io" ? "docker.io" + name.slice(first.length) : name;
    if (n.startsWith("docker.io/") && n.split("/").length === 2) n = "docker.io/library/" + n.slice("docker.io/".length);
    out.push(`${n}:${tag}`);
  } else {
    out.push(`localhost/${name}:${tag}`);
    out.push(`docker.io/${name.includes("/") ? name : `library/${name}`}:${tag}`);
  }
  return [...new Set(out)];
}

function isDomain(name: string): boolean {
  if (!name.includes("/")) return false;
  const first = name.split("/")[0] ?? "";
  return first.includes(".") || first.includes(":") || first === "localhost";
}

/** "quay.io/a/b:1" -> "quay.io/a/b" (tag removed). */
function repository(name: string): string {
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? name.slice(0, colon) : name;
}

/** An unqualified name matched against any registry's repository ending in "/" + name. */
function shortNameMatches(images: Located<ImageRecord>[], input: string): Located<ImageRecord>[] {
  if (isDomain(repository(input)) || input.includes("@")) return [];
  const colon = input.lastIndexOf(":");
  const hasTag = colon > input.lastIndexOf("/");
  const wanted = hasTag ? input : `${input}:latest`;
  return images.filter((i) => (i.record.names ?? []).some((n) => n.endsWith(`/${wanted}`)));
}

function stripAlgorithm(text: string): string {
  return text.startsWith("sha256:") ? text.slice("sha256:".length) : text;
}

function unique<T extends { id: string; names?: string[] }>(
  matches: Located<T>[],
  text: string,
  storeName: string,
  kind: "containers" | "images",
): Located<T> | undefined {
  if (matches.length <= 1) return matches[0];
  const listed = matches
    .slice(0, 8)
    .map((m) => `${m.record.id.slice(0, 12)}${m.record.names?.length ? ` (${m.record.names.join(", ")})` : ""}`)
    .join(", ");
  const more = matches.length > 8 ? ` and ${matches.length - 8} more` : "";
  throw new BadReferenceError(`"${text}" is ambiguous in store ${storeName}: it matches ${kind} ${listed}${more}`);
}
