// The files of a dir: image directory: version, manifest.json, <hex> blobs, signature-N, <hex>.manifest.json.
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { digestHex, isDigest } from "../../src/digest.js";
import { CorruptInputError, UnsupportedError, describeFsError } from "../../src/errors.js";
import type { Digest } from "../../src/types.js";

export const VERSION_FILE = "version";
export const CURRENT_VERSION = "Directory Transport Version: 1.1\n";
/** 1.0 named blobs <hex>.tar; 1.1 names them <hex>. */
const KNOWN_VERSIONS = new Map([
  [CURRENT_VERSION, "1.1"],
  ["Directory Transport Version: 1.0\n", "1.0"],
]);

/** A digest's hex, checked: only a sha256 digest names a file, so a hostile "../x" cannot. */
function checkedHex(digest: string, what: string): string {
  if (!isDigest(digest)) {
    throw new CorruptInputError(`${what}: digest ${JSON.stringify(digest).slice(0, 100)} is not a sha256 digest (sha256:<64 hex digits>)`);
  }
  return digestHex(digest);
}

export function blobFile(digest: string, what: string): string {
  return checkedHex(digest, what);
}

/** manifest.json, or <hex>.manifest.json for an instance of a list. */
export function manifestFile(instance: Digest | undefined, what: string): string {
  return instance === undefined ? "manifest.json" : `${checkedHex(instance, what)}.manifest.json`;
}

/** signature-N (N from 1), or <hex>.signature-N for an instance of a list. */
export function signatureFile(n: number, instance: Digest | undefined, what: string): string {
  return instance === undefined ? `signature-${n}` : `${checkedHex(instance, what)}.signature-${n}`;
}

/** The version a directory declares: "1.1", "1.0", or undefined when it has no version file. */
export async function readDirVersion(dir: string, what: string): Promise<string | undefined> {
  const path = join(dir, VERSION_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw describeFsError(err, `${what}: ${path}`);
  }
  const version = KNOWN_VERSIONS.get(text);
  if (!version) throw new UnsupportedError(`${what}: ${path} says ${JSON.stringify(text.slice(0, 60))}, expected ${JSON.stringify(CURRENT_VERSION)}`);
  return version;
}

/**
 * What is at `dir` for a destination: "absent", "empty", or "image" (it has a version file).
 * Anything else is someone's files: refused, never replaced.
 */
export async function classifyTarget(dir: string, what: string): Promise<"absent" | "empty" | "image"> {
  try {
    const st = await stat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (!st) return "absent";
    if (!st.isDirectory()) throw new UnsupportedError(`${what}: ${dir} exists and is not a directory`);
    if ((await readdir(dir)).length === 0) return "empty";
    const version = await readDirVersion(dir, what).catch(() => undefined);
    if (version === undefined) {
      throw new UnsupportedError(
        `${what}: ${dir} is not empty and is not an image directory (no "version" file saying "${CURRENT_VERSION.trim()}"); refusing to replace it`,
      );
    }
    return "image";
  } catch (err) {
    throw describeFsError(err, `${what}: ${dir}`);
  }
}
