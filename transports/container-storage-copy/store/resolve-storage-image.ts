// containers-storage: references, resolved to an image exactly as containers/image does
// (storage_transport.go ParseStoreReference + storage_reference.go resolveImage): images only,
// `[NAME][@ID]`, an ID prefix of 3+ characters, NAME@DIGEST, short names qualified with
// docker.io/library/ only, and the manifest served chosen the way its image source chooses it.
import { BadReferenceError, NotFoundError } from "../../../src/errors.js";
import type { ImageRecord } from "./record-types.js";
import type { Located, StoreRecords } from "./records.js";
import { badName, formatName, parseNormalizedName, repositoryOf, withDefaultTag, type NormalizedName } from "./image-name.js";

/** containers/image's minimumTruncatedIDLength. */
const MIN_ID_PREFIX = 3;
const IMAGE_ID_RE = /^[a-f0-9]{64}$/;
const DIGEST_RE = /^(?:sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;

export interface StorageImageMatch {
  image: Located<ImageRecord>;
  /** The big-data key of the manifest containers/image would serve. */
  manifestKey: string;
  /** The repository the reference named (skopeo inspect's "Name"); undefined for an id-only reference. */
  dockerName?: string;
}

/**
 * Resolves `text` (the part after the store bracket) to an image. `shown` is the whole
 * reference for messages, `storeName` names the store.
 */
export function resolveStorageImage(records: StoreRecords, text: string, storeName: string): StorageImageMatch {
  const images = records.images;
  let rest = text;
  let id: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const possible = rest.slice(at + 1);
    if (possible === "") throw new BadReferenceError(`invalid containers-storage reference ${JSON.stringify(text)}: nothing after "@"`);
    if (!DIGEST_RE.test(possible)) {
      // Not a digest: an image ID (full, or a prefix of an image present in the store).
      if (IMAGE_ID_RE.test(possible)) id = possible;
      else {
        const byPrefix = possible.length >= MIN_ID_PREFIX ? imageByIdOrPrefix(images, possible, text, storeName) : undefined;
        if (!byPrefix) {
          throw new BadReferenceError(
            `"${possible}" in ${JSON.stringify(text)} does not look like an image ID or digest, and matches no image ID in store ${storeName}`,
          );
        }
        id = byPrefix.record.id;
      }
      rest = rest.slice(0, at);
    }
  }
  if (id === undefined && rest.length >= MIN_ID_PREFIX && !/[@:]/.test(rest)) {
    const byPrefix = imageByIdOrPrefix(images, rest, text, storeName);
    if (byPrefix) {
      id = byPrefix.record.id;
      rest = "";
    }
  }
  let named: NormalizedName | undefined;
  if (rest !== "") {
    const parsed = parseNormalizedName(rest);
    if ("error" in parsed) throw badName(rest, parsed.error, text);
    named = withDefaultTag(parsed);
  }
  const image = findNamedImage(images, named, id);
  if (!image || (named && !matchesRepository(image.record, named))) throw notFound(records, text, named, storeName);
  const match: StorageImageMatch = { image, manifestKey: "manifest" };
  // containers/image serves the manifest of the digest the user named when the image keeps it,
  // else the one written last (big data "manifest"), whatever the record's `digest` says.
  const keyOfDigest = named?.digest !== undefined ? `manifest-${named.digest}` : undefined;
  if (keyOfDigest && (image.record["big-data-names"] ?? []).includes(keyOfDigest)) match.manifestKey = keyOfDigest;
  if (named) match.dockerName = named.repository;
  return match;
}

function findNamedImage(images: Located<ImageRecord>[], named: NormalizedName | undefined, id: string | undefined): Located<ImageRecord> | undefined {
  if (id !== undefined) return images.find((i) => i.record.id === id);
  if (!named) return undefined;
  const full = formatName(named);
  const byName = images.find((i) => i.record.names?.includes(full));
  if (byName) return byName;
  const digest = named.digest;
  if (digest === undefined) return undefined;
  return images.find((i) => hasManifestDigest(i.record, digest) && matchesRepository(i.record, named));
}

function hasManifestDigest(image: ImageRecord, digest: string): boolean {
  const digests = (image as ImageRecord & { digests?: unknown }).digests;
  return (
    image.digest === digest ||
    (Array.isArray(digests) && digests.includes(digest)) ||
    (image["big-data-names"] ?? []).includes(`manifest-${digest}`)
  );
}

/** containers/image's imageMatchesRepo: one of the image's names is in the same repository. */
function matchesRepository(image: ImageRecord, named: NormalizedName): boolean {
  return (image.names ?? []).some((n) => repositoryOf(n) === named.repository);
}

/** containers/storage's Image(id): exact id, then exact name (only when its id starts with it), then a unique id prefix. */
function imageByIdOrPrefix(images: Located<ImageRecord>[], text: string, shown: string, storeName: string): Located<ImageRecord> | undefined {
  const exact = images.find((i) => i.record.id === text);
  if (exact) return exact;
  const byName = images.find((i) => i.record.names?.includes(text));
  if (byName) return byName.record.id.startsWith(text) ? byName : undefined;
  if (!/^[a-f0-9]+$/.test(text)) return undefined;
  const matches = images.filter((i) => i.record.id.startsWith(text));
  if (matches.length > 1) {
    const listed = matches.slice(0, 8).map((m) => m.record.id.slice(0, 12)).join(", ");
    throw new BadReferenceError(`"${shown}" is ambiguous in store ${storeName}: it matches images ${listed}`);
  }
  return matches[0];
}

function notFound(records: StoreRecords, text: string, named: NormalizedName | undefined, storeName: string): NotFoundError {
  let hint = "";
  if (named) {
    const shortName = formatName(named).replace(/^docker\.io\/library\//, "");
    const local = `localhost/${shortName}`;
    if (named.repository.startsWith("docker.io/library/") && records.images.some((i) => i.record.names?.includes(local))) {
      hint = ` (containers-storage: qualifies a short name as docker.io/library/, as skopeo does; name the image ${local})`;
    } else if (records.containers.some((c) => c.record.names?.includes(text))) {
      hint = " (a container has that name: containers-storage: reads images only; use container-copy: to export a container)";
    }
  } else if (records.containers.some((c) => c.record.id.startsWith(text.replace(/^@/, "")))) {
    hint = " (a container has that id: containers-storage: reads images only; use container-copy: to export a container)";
  }
  const what = named ? ` (${formatName(named)})` : "";
  return new NotFoundError(`no image "${text}"${what} in store ${storeName}${hint}`);
}
