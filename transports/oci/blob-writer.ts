// Writing one blob into a layout's blobs/sha256: streamed to a temp file, hashed, checked, renamed.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DigestingStream } from "../../src/digest.js";
import { DigestMismatchError, describeFsError } from "../../src/errors.js";
import type { Digest } from "../../src/types.js";
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
 * Streams `source` into the layout. When `expected` is given, the bytes must hash to its digest
 * (and have its size when >= 0), else DigestMismatchError and nothing is left behind.
 */
export async function writeBlob(
  layoutPath: string,
  source: Readable,
  expected: { digest: Digest; size: number } | undefined,
  what: string,
): Promise<WrittenBlob> {
  if (expected) blobPath(layoutPath, expected.digest, what); // a hostile digest fails before any byte is written
  const tmp = join(layoutPath, `${BLOB_TEMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`);
  const hasher = new DigestingStream();
  try {
    await pipeline(source, hasher, createWriteStream(tmp, { flags: "wx", mode: 0o644, flush: true }));
    const digest = hasher.digest();
    if (expected && digest !== expected.digest) throw new DigestMismatchError(what, expected.digest, digest);
    if (expected && expected.size >= 0 && hasher.size !== expected.size) {
      throw new DigestMismatchError(what, `size ${expected.size}`, `size ${hasher.size}`);
    }
    const final = blobPath(layoutPath, digest, what);
    const existing = await stat(final).catch(() => undefined);
    if (existing?.isFile() && existing.size === hasher.size) {
      await rm(tmp, { force: true });
      return { digest, size: hasher.size, created: false };
    }
    await rename(tmp, final);
    return { digest, size: hasher.size, created: true };
  } catch (err) {
    await rm(tmp, { force: true });
    throw describeFsError(err, what);
  }
}
