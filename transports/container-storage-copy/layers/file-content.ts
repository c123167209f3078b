// Reads one file's content in bounded chunks: to check it on its own (a replay's CRC-64s after a
// mismatch), and a big file of a layer with one read ahead on the thread pool (readAhead), so that
// the main thread hashes and passes on one chunk while the next is copied from the page cache.
// Gives long walks their event-loop turns too. Small files are read with one synchronous call (a
// thread-pool round trip costs more than the read).
import { read, readSync } from "node:fs";
import { promisify } from "node:util";
import { AbortedError } from "../../../src/errors.js";
import { BATCH_BYTES, type TarBatches } from "./tar-batches.js";

const CHUNK = 256 * 1024;
const SMALL = 64 * 1024;
const readAsync = promisify(read);

/** Every this many entries, a walk gives the event loop a turn. */
export const ENTRIES_PER_TURN = 256;

/** Lets other work (other layers' streams, signals, progress) run during a long walk. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Up to `size` bytes of the open file `fd` from offset 0, chunk by chunk (fresh buffers); stops
 * early at end of file (the caller counts and decides what a short file means). The caller closes
 * `fd`. Layers themselves are read through TarBatches; this is for checking files one by one.
 */
export async function* readContent(fd: number, size: number, what: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  let position = 0;
  while (position < size) {
    if (signal?.aborted) throw new AbortedError(`${what}: aborted`);
    const want = Math.min(CHUNK, size - position);
    const buf = Buffer.allocUnsafe(want);
    const bytesRead = size <= SMALL ? readSync(fd, buf, 0, want, position) : (await readAsync(fd, buf, 0, want, position)).bytesRead;
    if (bytesRead === 0) return;
    position += bytesRead;
    yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
  }
}

/**
 * Files at least this big are read into a layer with readAhead: the page-cache copy (about half a
 * millisecond per MiB) leaves the main thread, and from the second chunk on it overlaps the hashing
 * of the one before. A smaller file is read synchronously into the current batch: its first read
 * overlaps nothing, and the round trips and a batch cut short cost about what they save (measured:
 * files of 256 KiB-1 MiB saved ~5 ms of main thread per 40 MB; files over 1 MiB ~40 ms per 60 MB).
 */
export const READ_AHEAD_MIN = 1024 * 1024;

/**
 * Up to `size` bytes of the open file `fd` from offset 0, in fresh CHUNK-sized buffers, each read
 * on the thread pool and the next one started before a chunk is handed over. Stops early at end of
 * file (the caller counts and decides what a short file means). No read is left running when the
 * generator ends, however it ends, so the caller may close `fd` right after.
 */
export async function* readAhead(fd: number, size: number, what: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  let issuedTo = 0;
  const issue = (): { buf: Buffer; from: number; done: Promise<{ bytesRead: number }> } => {
    if (signal?.aborted) throw new AbortedError(`${what}: aborted`);
    const want = Math.min(CHUNK, size - issuedTo);
    const buf = Buffer.allocUnsafeSlow(want);
    const from = issuedTo;
    issuedTo += want;
    return { buf, from, done: readAsync(fd, buf, 0, want, from) };
  };
  let pending = size > 0 ? issue() : undefined;
  try {
    while (pending) {
      const current = pending;
      pending = undefined;
      const { bytesRead } = await current.done;
      if (bytesRead === 0) return;
      if (bytesRead < current.buf.length) issuedTo = current.from + bytesRead; // a short read: the rest next (0 at the end)
      if (issuedTo < size) pending = issue();
      yield bytesRead === current.buf.length ? current.buf : current.buf.subarray(0, bytesRead);
    }
  } finally {
    if (pending) await pending.done.catch(() => undefined);
  }
}

/**
 * A big file's content, read ahead on the thread pool (see readAhead): the batch gathered so far
 * goes first, then the file's chunks as they are, its last partial chunk into the batches (what
 * follows packs in behind it). Returns the bytes read (fewer: the file ended early).
 */
export async function* bigFileBatches(out: TarBatches, fd: number, size: number, what: string, signal?: AbortSignal): AsyncGenerator<Buffer, number> {
  const before = out.flush();
  if (before) yield before;
  let read = 0;
  for await (const chunk of readAhead(fd, size, what, signal)) {
    read += chunk.length;
    if (chunk.length === BATCH_BYTES) yield chunk;
    else for (const batch of out.append(chunk)) yield batch;
  }
  return read;
}
