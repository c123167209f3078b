// Writing one blob into a layout's blobs/sha256: streamed to a temp file, hashed, checked, renamed.
import { randomBytes } from "node:crypto";
import { rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { copyFileVerified } from "../../src/atomic-fs.js";
import { DigestingStream } from "../../src/digest.js";
import { FileSink } from "../../src/file-sink.js";
import { DigestMismatchError, describeFsError } from "../../src/errors.js";
import type { Digest, StreamDigest } from "../../src/types.js";
import { blobPath } from "./layout-files.js";

/** Temp files live in the layout root (same filesystem as blobs/, never mistaken for a blob). */
export const BLOB_TEMP_PREFIX = ".imgcopy-blob-";

export interface WrittenBlob {
  digest: Digest;
  size: number;
  /** False when an identical blob was already there (someone else's: not ours to remove). */
  created: boolean;
}

/**
 * Streams `source` into the layout. `expected`: the digest the engine proved for these bytes (not
 * hashed again; the size is checked when >= 0). Without it, `computed` gives the digest the engine
 * computed while streaming, else the bytes are hashed here. Nothing is left behind on failure.
 */
export async function writeBlob(
  layoutPath: string,
  source: Readable,
  expected: { digest: Digest; size: number } | undefined,
  what: string,
  computed?: StreamDigest,
): Promise<WrittenBlob> {
  if (expected) blobPath(layoutPath, expected.digest, what); // a hostile digest fails before any byte is written
  const tmp = join(layoutPath, `${BLOB_TEMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`);
  const hasher = expected || computed ? undefined : new DigestingStream();
  try {
    const file = new FileSink(tmp, { mode: 0o644, sync: true });
    await (hasher ? pipeline(source, hasher, file) : pipeline(source, file));
    const size = file.bytesWritten;
    const digest = expected?.digest ?? (hasher ?? (computed as StreamDigest)).digest();
    if (expected && expected.size >= 0 && size !== expected.size) {
      throw new DigestMismatchError(what, `size ${expected.size}`, `size ${size}`);
    }
    return await placeBlob(layoutPath, tmp, digest, size, what);
  } catch (err) {
    await rm(tmp, { force: true });
    throw describeFsError(err, what);
  }
}

/**
 * Copies the regular file `source` into the layout as blob `expected.digest` (inside the kernel,
 * see copyFileInKernel). `verify` (the engine's hash of the copy) must pass before the copy is
 * renamed into blobs/; it runs while the copy is flushed to disk. Nothing is left behind on failure.
 */
export async function writeBlobFromFile(
  layoutPath: string,
  source: string,
  expected: { digest: Digest; size: number },
  what: string,
  verify: (copy: string) => Promise<void>,
): Promise<WrittenBlob> {
  blobPath(layoutPath, expected.digest, what); // a hostile digest fails before any byte is written
  const tmp = join(layoutPath, `${BLOB_TEMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`);
  const size = await copyFileVerified(source, tmp, expected.size, what, verify);
  try {
    return await placeBlob(layoutPath, tmp, expected.digest, size, what);
  } catch (err) {
    await rm(tmp, { force: true });
    throw describeFsError(err, what);
  }
}

/** Renames a complete temp file into blobs/ (or drops it when the same blob is there already). */
async function placeBlob(layoutPath: string, tmp: string, digest: Digest, size: number, what: string): Promise<WrittenBlob> {
  const final = blobPath(layoutPath, digest, what);
  const existing = await stat(final).catch(() => undefined);
  if (existing?.isFile() && existing.size === size) {
    await rm(tmp, { force: true });
    return { digest, size, created: false };
  }
  await rename(tmp, final);
  return { digest, size, created: true };
}
