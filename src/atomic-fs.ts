// Atomic writes: write to a temporary name in the same directory, then rename over the target.
import { randomBytes } from "node:crypto";
import { constants, createWriteStream } from "node:fs";
import { chmod, copyFile, open, readFile, rename, rm, mkdir, mkdtemp, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DigestingStream } from "./digest.js";
import { DigestMismatchError, describeFsError } from "./errors.js";
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
 * Rewrites a small JSON file that other processes may rewrite too (a per-user cache): what is on
 * disk now (`parse`d; `fresh()` when it is missing or not well-formed) goes through `merge`, and is
 * written back atomically, readable by its owner only (its folder, when missing, made 0700).
 */
export async function rewriteJsonFile<T>(path: string, parse: (text: string) => T | undefined, fresh: () => T, merge: (onDisk: T) => void): Promise<void> {
  const onDisk = parse(await readFile(path, "utf8").catch(() => "")) ?? fresh();
  merge(onDisk);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${JSON.stringify(onDisk)}\n`, 0o600);
}

/** The object a JSON cache file of format `version` holds under `field` ({"version": N, FIELD: {...}}); undefined for any other text. */
export function versionedJsonRecord(text: string, version: number, field: string): Record<string, unknown> | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null || (raw as { version?: unknown }).version !== version) return undefined;
  const record = (raw as Record<string, unknown>)[field];
  return typeof record === "object" && record !== null && !Array.isArray(record) ? (record as Record<string, unknown>) : undefined;
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

/**
 * Copies the file `src` to the new file `dest` (which must not exist) inside the kernel: a reflink
 * where the file system has them, else copy_file_range; no byte passes through this process.
 * The copy gets mode 0644 less the umask, as a file written by this process would.
 */
export async function copyFileInKernel(src: string, dest: string): Promise<void> {
  await copyFile(src, dest, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  await chmod(dest, 0o644 & ~process.umask());
}

/**
 * Copies `src` into the new temp file `tmp` in the kernel, then, at once, has `verify` hash the copy,
 * flushes it and checks its size against `expectedSize` (-1: any). Returns the size; on any failure
 * `tmp` is removed and the error is named after `what`. The caller renames `tmp` into place.
 */
export async function copyFileVerified(src: string, tmp: string, expectedSize: number, what: string, verify: (copy: string) => Promise<void>): Promise<number> {
  try {
    await copyFileInKernel(src, tmp);
    const [size] = await Promise.all([stat(tmp).then((st) => st.size), verify(tmp), syncFile(tmp)]);
    if (expectedSize >= 0 && size !== expectedSize) throw new DigestMismatchError(what, `size ${expectedSize}`, `size ${size}`);
    return size;
  } catch (err) {
    await rm(tmp, { force: true });
    throw describeFsError(err, what);
  }
}

/** Flushes a written file to disk (before a rename makes it visible). */
export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
