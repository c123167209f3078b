// The sha256 of a layer made on the main thread, computed on a helper thread: the main thread
// copies each batch into a shared ring (SharedArrayBuffer, counters in Atomics: no message per
// batch) and goes on making the layer while the other core hashes.
// Hashing is the largest single cost of an uncompressed export (about a sixth of the main thread);
// a copy into the ring costs a tenth of that. Opt-in (see helperWanted); else the main thread hashes.
import { createHash, type Hash } from "node:crypto";
import { isMainThread, Worker } from "node:worker_threads";
import { IOError } from "../../../src/errors.js";

const SLOT_BYTES = 128 * 1024;
/** 1 MiB: the helper hashes several times faster than a layer is made, so a few batches are enough. */
const SLOTS = 8;
/** Control words (Int32 indexes): slots filled by the main thread, slots hashed, helper failed. */
const WRITTEN = 0;
const HASHED = 1;
const FAILED = 2;
/** A slot's length field: a digest wanted, or the stream dropped (else the bytes in the slot). */
const DIGEST = -1;
const DISCARD = -2;

/**
 * The helper: waits on the WRITTEN counter (no event loop, no message per slot), hashes each slot
 * for its stream, counts it in HASHED; only a digest is posted back. Atomics.wait is interrupted
 * when the process exits, so the unref'd thread never holds it up.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const control = new Int32Array(workerData.control);
const meta = new Int32Array(workerData.meta);
const data = Buffer.from(workerData.data);
const hashes = new Map();
let next = 0;
try {
  for (;;) {
    if (Atomics.load(control, ${WRITTEN}) === next) {
      Atomics.wait(control, ${WRITTEN}, next);
      continue;
    }
    const slot = next % ${SLOTS};
    const stream = meta[2 * slot];
    const length = meta[2 * slot + 1];
    let hash = hashes.get(stream);
    if (length === ${DIGEST}) {
      hashes.delete(stream);
      parentPort.postMessage([stream, (hash ?? createHash("sha256")).digest("hex")]);
    } else if (length === ${DISCARD}) {
      hashes.delete(stream);
    } else {
      if (!hash) hashes.set(stream, (hash = createHash("sha256")));
      hash.update(data.subarray(slot * ${SLOT_BYTES}, slot * ${SLOT_BYTES} + length));
    }
    next++;
    Atomics.store(control, ${HASHED}, next);
    Atomics.notify(control, ${HASHED});
  }
} catch (err) {
  Atomics.store(control, ${FAILED}, 1);
  Atomics.notify(control, ${HASHED});
  throw err;
}
`;

/** The helper allocates almost nothing (a hash per stream): the smallest heap keeps its memory down. */
const HELPER_LIMITS = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8 };

/** How long the main thread waits for a slot before it gives up on the helper. */
const STALL_MS = 30_000;

/** One running sha256: update() with every batch in order, then digest() once. */
export interface LayerHash {
  update(bytes: Buffer): void;
  /** `sha256:<hex>` of everything given. */
  digest(): Promise<string>;
  /** The stream stopped early: drop its state. */
  discard(): void;
  /** Whether the helper thread does the hashing. */
  readonly threaded: boolean;
}

class HashThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(3 * 4));
  private readonly meta = new Int32Array(new SharedArrayBuffer(2 * SLOTS * 4));
  private readonly data = Buffer.from(new SharedArrayBuffer(SLOTS * SLOT_BYTES));
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (hex: string) => void; reject: (err: Error) => void }>();
  private written = 0;
  private nextStream = 1;
  failure: Error | undefined;

  constructor() {
    const { control, meta, data } = this;
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { control: control.buffer, meta: meta.buffer, data: data.buffer }, resourceLimits: HELPER_LIMITS });
    this.worker.unref();
    this.worker.on("message", ([stream, hex]: [number, string]) => {
      const waiter = this.waiting.get(stream);
      this.waiting.delete(stream);
      if (this.waiting.size === 0) this.worker.unref();
      waiter?.resolve(hex);
    });
    const lost = (err: Error): void => this.fail(new IOError(`the hashing thread stopped: ${err.message}`, { cause: err }));
    this.worker.on("error", lost);
    this.worker.on("exit", (code) => lost(new Error(`exit code ${code}`)));
  }

  open(): number {
    return this.nextStream++;
  }

  /** Copies `bytes` into the ring, a slot at a time. */
  update(stream: number, bytes: Buffer): void {
    for (let at = 0; at < bytes.length; at += SLOT_BYTES) {
      const slot = this.claimSlot();
      const length = bytes.copy(this.data, slot * SLOT_BYTES, at, Math.min(bytes.length, at + SLOT_BYTES));
      this.publish(slot, stream, length);
    }
  }

  digest(stream: number): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(stream, { resolve, reject });
      this.worker.ref(); // the answer may be all the process is waiting for
      try {
        this.publish(this.claimSlot(), stream, DIGEST);
      } catch (err) {
        this.waiting.delete(stream);
        reject(err as Error);
      }
    });
  }

  discard(stream: number): void {
    if (this.failure) return;
    try {
      this.publish(this.claimSlot(), stream, DISCARD);
    } catch {
      // the helper is gone: nothing of this stream is left to drop
    }
  }

  /**
   * The next free slot, waiting (blocked: the helper hashes far faster than a layer is made, so this
   * is short, or the helper's start) while the ring is full; throws once the helper has failed.
   */
  private claimSlot(): number {
    const started = Date.now();
    for (;;) {
      if (Atomics.load(this.control, FAILED) !== 0) this.fail(new IOError("the hashing thread failed"));
      if (this.failure) throw this.failure;
      const hashed = Atomics.load(this.control, HASHED);
      if (this.written - hashed < SLOTS) return this.written % SLOTS;
      if (Date.now() - started > STALL_MS) this.fail(new IOError(`the hashing thread has not answered for ${STALL_MS / 1000} s`));
      Atomics.wait(this.control, HASHED, hashed, 1000);
    }
  }

  private publish(slot: number, stream: number, length: number): void {
    this.meta[2 * slot] = stream;
    this.meta[2 * slot + 1] = length;
    this.written++;
    Atomics.store(this.control, WRITTEN, this.written);
    Atomics.notify(this.control, WRITTEN);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
    void this.worker.terminate();
  }
}

let shared: HashThread | undefined;

/**
 * Whether the helper thread is used: only when asked for (IMGCOPY_HASH_THREAD=1), and only from the
 * main thread (a layer worker hashes itself). Measured on the 2-core machine (uncompressed export of
 * the bench container, 4 interleaved pairs): the main thread's CPU went from 1.23-1.52 s to
 * 1.01-1.19 s, but the peak RSS from 101-111 MiB to 112-130 MiB (the thread itself, and batches that
 * live longer while it shares the second core with the writes): over the 120 MiB budget, so it is
 * not the default.
 */
function helperWanted(): boolean {
  return isMainThread && process.env.IMGCOPY_HASH_THREAD === "1";
}

/** A sha256 for one layer stream: on the shared helper thread when there is one, else here. */
export function layerHash(): LayerHash {
  if (!helperWanted()) return localHash(createHash("sha256"));
  if (!shared?.failure) {
    try {
      shared ??= new HashThread();
    } catch {
      shared = undefined; // no thread to be had: hash here
    }
  }
  const thread = shared && !shared.failure ? shared : undefined;
  if (!thread) return localHash(createHash("sha256"));
  const stream = thread.open();
  return {
    update: (bytes) => thread.update(stream, bytes),
    digest: async () => `sha256:${await thread.digest(stream)}`,
    discard: () => thread.discard(stream),
    threaded: true,
  };
}

function localHash(hash: Hash): LayerHash {
  return {
    update: (bytes) => hash.update(bytes),
    digest: () => Promise.resolve(`sha256:${hash.digest("hex")}`),
    discard: () => undefined,
    threaded: false,
  };
}
