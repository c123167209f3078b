// A worker thread that produces layer tars (tree walk, file reads, tar headers, the replay's and
// the diff's sha256) into a shared ring of 256 KiB slots, so the main thread only copies finished
// batches out and moves them on. One worker serves
// several layers at once; each stream sends only as many buffers as the main thread asked for.
import { createHash, type Hash } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { AbortedError } from "../../../src/errors.js";
import { openLayerChunks } from "./index.js";
import { BATCH_BYTES, RING_SLOTS, sendableError, type FromWorker, type LayerOpenRequest, type ToWorker } from "./worker-protocol.js";

const port = parentPort;
if (!port) throw new Error("layer-worker: not started as a worker thread");

interface Stream {
  id: number;
  what: string;
  abort: AbortController;
  credits: number;
  /** Resolves when credits arrive or the stream is cancelled. */
  wake: (() => void) | undefined;
}

const streams = new Map<number, Stream>();

function post(message: FromWorker): void {
  port!.postMessage(message);
}

function waitForCredit(s: Stream): Promise<void> | undefined {
  if (s.abort.signal.aborted) throw new AbortedError(`${s.what}: aborted`);
  if (s.credits > 0) return undefined;
  return new Promise((resolve) => {
    s.wake = resolve;
  });
}

async function produce(id: number, request: LayerOpenRequest, ring: SharedArrayBuffer): Promise<void> {
  const what = `layer ${request.layer.id}`;
  const s: Stream = { id, what, abort: new AbortController(), credits: 0, wake: undefined };
  streams.set(id, s);
  try {
    const { chunks, verifies } = await openLayerChunks({
      ...request,
      warn: (message) => post({ type: "warn", id, message }),
      signal: s.abort.signal,
    });
    post({ type: "opened", id, verifies });
    // A replay checks its own digest; anything else is hashed here, so the main thread need not.
    const hash: Hash | undefined = verifies ? undefined : createHash("sha256");
    let size = 0;
    const slots = Buffer.from(ring);
    let seq = 0;
    let batch: Buffer | undefined;
    let filled = 0;
    // A slot is written only with a credit for it: the main thread has copied out what it held.
    const take = async (): Promise<Buffer> => {
      await waitForCredit(s);
      if (s.abort.signal.aborted) throw new AbortedError(`${what}: aborted`);
      s.credits--;
      const start = (seq % RING_SLOTS) * BATCH_BYTES;
      filled = 0;
      return slots.subarray(start, start + BATCH_BYTES);
    };
    const send = (full: Buffer): void => {
      hash?.update(full.subarray(0, filled));
      size += filled;
      post({ type: "data", id, slot: seq % RING_SLOTS, length: filled });
      seq++;
      batch = undefined;
    };
    for await (const chunk of chunks) {
      for (let at = 0; at < chunk.length; ) {
        batch ??= await take();
        const n = Math.min(chunk.length - at, BATCH_BYTES - filled);
        chunk.copy(batch, filled, at, at + n);
        filled += n;
        at += n;
        if (filled === BATCH_BYTES) send(batch);
      }
    }
    if (batch && filled > 0) send(batch);
    post({ type: "end", id, digest: hash ? `sha256:${hash.digest("hex")}` : undefined, size });
  } catch (err) {
    if (!s.abort.signal.aborted) post({ type: "error", id, error: sendableError(err, what) });
  } finally {
    streams.delete(id);
  }
}

port.on("message", (m: ToWorker) => {
  if (m.type === "open") {
    void produce(m.id, m.request, m.ring);
    return;
  }
  const s = streams.get(m.id);
  if (!s) return; // already ended
  if (m.type === "credit") s.credits += m.chunks;
  else s.abort.abort();
  const wake = s.wake;
  s.wake = undefined;
  wake?.();
});
