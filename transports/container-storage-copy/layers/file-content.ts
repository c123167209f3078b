// Reads one file's content in bounded chunks, to check it on its own (a replay's CRC-64s after a
// mismatch; layers themselves are read into TarBatches), and gives long walks their event-loop
// turns. Small files are read with one synchronous call (a thread-pool round trip costs more than
// the read); big ones asynchronously, chunk by chunk, as the consumer asks.
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
