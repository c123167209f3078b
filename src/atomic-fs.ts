// Atomic writes: write to a temporary name in the same directory, then rename over the target.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { open, rename, rm, mkdir, mkdtemp } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DigestingStream } from "./digest.js";
import { describeFsError } from "./errors.js";
import type { Digest } from "./types.js";

/** A temporary name beside `path` (same filesystem, so rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** Writes `data` to `path` atomically (fsynced temp file, then rename). */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    const fh = await open(tmp, "wx", mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw describeFsError(err, path);
  }
}

/**
 * Streams `source` into a new file at `path`, hashing it; the file appears only when complete.
 * Returns the digest and size of what was written.
 */
export async function writeStreamAtomic(
  path: string,
  source: Readable,
  signal?: AbortSignal,
): Promise<{ digest: Digest; size: number }> {
  const tmp = tempPathFor(path);
  const hasher = new DigestingStream();
  try {
    await pipeline(source, hasher, createWriteStream(tmp, { flags: "wx", mode: 0o644 }), signal ? { signal } : {});
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw describeFsError(err, path);
  }
  return { digest: hasher.digest(), size: hasher.size };
}

/** Creates a fresh temporary directory beside `path` (for building a whole tree, then renaming it). */
export async function makeTempDirBeside(path: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  return mkdtemp(join(dirname(path), `.${basename(path)}.tmp-`));
}
