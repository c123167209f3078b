// Reads a file's content in bounded chunks, so a layer never sits in memory whole. Layers are
// mostly small files: those are read with one synchronous call (a thread-pool round trip costs
// more than the read); big ones asynchronously, chunk by chunk, as the consumer asks.
import { read, readSync } from "node:fs";
import { promisify } from "node:util";
import { AbortedError } from "../../../src/errors.js";

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
 * Two 256 KiB read buffers used in turn, instead of a fresh buffer per read, for a consumer that
 * copies each chunk before it asks for the next one (a layer worker filling its batches): a
 * producer that holds one chunk back (the replay) still finds it intact when it passes it on.
 */
export class ReadBuffers {
  private turn = 0;
  private readonly buffers: [Buffer, Buffer];

  constructor(size = 256 * 1024) {
    this.buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  }

  next(): Buffer {
    this.turn ^= 1;
    return this.buffers[this.turn]!;
  }
}

/**
 * Up to `size` bytes of the open file `fd` from offset 0, chunk by chunk; stops early at end of
 * file (the caller counts and decides what a short file means). The caller closes `fd`. With
 * `buffers`, chunks are views of them, read synchronously (a worker has nothing else to run).
 */
export async function* readContent(fd: number, size: number, what: string, signal?: AbortSignal, buffers?: ReadBuffers): AsyncGenerator<Buffer> {
  let position = 0;
  while (buffers && position < size) {
    if (signal?.aborted) throw new AbortedError(`${what}: aborted`);
    const buf = buffers.next();
    const bytesRead = readSync(fd, buf, 0, Math.min(buf.length, size - position), position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
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
