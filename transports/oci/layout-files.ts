// The files of an OCI image layout: oci-layout, index.json, blobs/sha256/<hex>, and reading them safely.
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isDigest, digestHex } from "../../src/digest.js";
import { CorruptInputError, describeFsError } from "../../src/errors.js";

export const OCI_LAYOUT_FILE = "oci-layout";
export const INDEX_FILE = "index.json";
export const LAYOUT_VERSION_JSON = JSON.stringify({ imageLayoutVersion: "1.0.0" });
/** Manifests and configs are small; refuse to buffer anything bigger (same bound as containers/image). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface OciPlatform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface OciDescriptor {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: OciPlatform;
  [key: string]: unknown;
}

export interface OciIndexFile {
  schemaVersion: number;
  mediaType?: string;
  manifests: OciDescriptor[];
  [key: string]: unknown;
}

export function blobDir(layoutPath: string): string {
  return join(layoutPath, "blobs", "sha256");
}

/**
 * The file of a blob. Only a validated sha256 digest makes a path, so a hostile digest
 * ("sha256:../../etc/passwd") can never name a file outside blobs/sha256.
 */
export function blobPath(layoutPath: string, digest: string, what: string): string {
  if (!isDigest(digest)) {
    throw new CorruptInputError(`${what}: digest ${JSON.stringify(digest).slice(0, 100)} is not a sha256 digest (sha256:<64 hex digits>)`);
  }
  return join(blobDir(layoutPath), digestHex(digest));
}

/** Reads a whole small file (a manifest, a config, index.json), refusing one larger than `limit`. */
export async function readSmallFile(path: string, what: string, limit = MAX_MANIFEST_BYTES): Promise<Buffer> {
  try {
    const fh = await open(path, "r");
    try {
      const { size } = await fh.stat();
      if (size > limit) throw new CorruptInputError(`${what}: ${size} bytes is more than the ${limit} bytes a manifest may have`);
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw describeFsError(err, what);
  }
}

/** Parses JSON, naming `what` in the error. */
export function parseJson(bytes: Uint8Array | string, what: string): unknown {
  try {
    return JSON.parse(typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new CorruptInputError(`${what}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/** Checks the shape of index.json; unknown fields are kept. */
export function parseIndexFile(bytes: Uint8Array, what: string): OciIndexFile {
  const v = parseJson(bytes, what) as Partial<OciIndexFile> | null;
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new CorruptInputError(`${what}: not a JSON object`);
  if (v.schemaVersion !== 2) throw new CorruptInputError(`${what}: schemaVersion is ${JSON.stringify(v.schemaVersion)}, expected 2`);
  const manifests = v.manifests ?? [];
  if (!Array.isArray(manifests)) throw new CorruptInputError(`${what}: "manifests" is not an array`);
  manifests.forEach((d, i) => {
    if (typeof d !== "object" || d === null || typeof d.digest !== "string" || typeof d.size !== "number") {
      throw new CorruptInputError(`${what}: manifests[${i}] is not a descriptor (digest and size)`);
    }
    if (d.annotations !== undefined && (typeof d.annotations !== "object" || d.annotations === null)) {
      throw new CorruptInputError(`${what}: manifests[${i}].annotations is not an object`);
    }
  });
  return { ...v, schemaVersion: 2, manifests } as OciIndexFile;
}

/** The file's bytes, or undefined when it does not exist. */
async function readFileIfExists(path: string, what: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw describeFsError(err, `${what}: ${path}`);
  }
}

/** index.json of the layout, or undefined when it has none yet. */
export async function readIndexFile(layoutPath: string, what: string): Promise<OciIndexFile | undefined> {
  const path = join(layoutPath, INDEX_FILE);
  const bytes = await readFileIfExists(path, what);
  return bytes === undefined ? undefined : parseIndexFile(bytes, `${what}: ${path}`);
}

/** Checks PATH/oci-layout; returns false when the file does not exist. */
export async function hasLayoutFile(layoutPath: string, what: string): Promise<boolean> {
  const path = join(layoutPath, OCI_LAYOUT_FILE);
  const bytes = await readFileIfExists(path, what);
  if (!bytes) return false;
  const v = parseJson(bytes, `${what}: ${path}`) as { imageLayoutVersion?: unknown } | null;
  if (typeof v !== "object" || v === null || typeof v.imageLayoutVersion !== "string") {
    throw new CorruptInputError(`${what}: ${path} has no imageLayoutVersion`);
  }
  return true;
}

/** The ref name of an index.json entry, if it has one. */
export function refNameOf(d: OciDescriptor, annotation: string): string | undefined {
  const v = d.annotations?.[annotation];
  return typeof v === "string" && v !== "" ? v : undefined;
}
