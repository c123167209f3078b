// Layer production on worker threads, opt-in: a small pool (IMGCOPY_LAYER_THREADS workers; the
// default, 0, makes layers on the main thread, which measured faster on 2 cores), each worker
// serving several layers. The main thread gets a Readable of 256 KiB chunks with backpressure,
// the same one-line errors, and no worker keeps the process alive once its layers are done.
import { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import { noteExternalGarbage } from "../../../src/compression/external-garbage.js";
import { AbortedError, IOError, UsageError } from "../../../src/errors.js";
import { openLayer, type LayerStreamInput, type SelfCheck } from "./index.js";
import { BATCH_BYTES, RING_SLOTS, revivedError, type FromWorker, type LayerOpenRequest, type ToWorker } from "./worker-protocol.js";

/** Batches a stream may have on their way to the main thread (per layer): its ring's slots. */
const CREDIT_WINDOW = RING_SLOTS;

export interface ProducedLayer {
  stream: Readable;
  verifies: SelfCheck | undefined;
  /** Only when the producer hashes the stream (a diff on a worker): after its end, its sha256 and size. */
  producedDigest?: () => { digest: string; size: number } | undefined;
}

/**
 * Worker threads for layers: IMGCOPY_LAYER_THREADS, else none. On the 2-core bench machine, quiet,
 * the main thread alone was faster on every container row (`npm run bench -- --only "container ->"
 * --only "exported again"`, one worker → none: gzip 1.42 → 1.21, exported again 0.64 → 0.53,
 * uncompressed 0.80 → 0.63 of buildah's time; gzip peak 122 → 107 MiB): handing batches across
 * threads costs more than the reads and hashing it moves, and deflate already fills the thread pool.
 * Machines with more cores may gain; hence the variable.
 */
export function layerThreads(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.IMGCOPY_LAYER_THREADS;
  if (text === undefined || text === "") return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new UsageError(`IMGCOPY_LAYER_THREADS=${text}: expected a whole number of threads, 0 to 64`);
  return n;
}

interface Consumer {
  onMessage(m: FromWorker): void;
  /** The worker died: the stream fails with `err`. */
  onWorkerLost(err: Error): void;
}

/** Worker code that registers tsx (found from here, whatever the working directory) and then loads `url`. */
function tsxBootstrap(url: URL): string {
  const api = import.meta.resolve("tsx/esm/api");
  return `import(${JSON.stringify(api)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`;
}

/**
 * A worker's young generation: small, as most of what it allocates dies at once (tar-split lines,
 * headers) and its default (3 x 16 MiB) would add tens of MiB to the process's peak.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 3 };

class LayerWorker {
  readonly consumers = new Map<number, Consumer>();
  private readonly waitingFor = new Set<number>();
  private readonly worker: Worker;
  dead = false;

  constructor() {
    const url = new URL(`./layer-worker.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url);
    // Under tsx (the tests), a worker does not inherit the TypeScript loader: it registers it first.
    this.worker = url.pathname.endsWith(".ts") ? new Worker(tsxBootstrap(url), { eval: true, resourceLimits: WORKER_LIMITS }) : new Worker(url, { resourceLimits: WORKER_LIMITS });
    this.worker.unref();
    this.worker.on("message", (m: FromWorker) => this.consumers.get(m.id)?.onMessage(m));
    const lost = (err: Error): void => {
      this.dead = true;
      for (const c of [...this.consumers.values()]) c.onWorkerLost(err);
      this.consumers.clear();
    };
    this.worker.on("error", (err) => lost(err));
    this.worker.on("exit", (code) => lost(new Error(`the layer worker exited (code ${code})`)));
  }

  post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  attach(id: number, c: Consumer): void {
    this.consumers.set(id, c);
  }

  detach(id: number): void {
    this.consumers.delete(id);
    this.waiting(id, false);
  }

  /**
   * Stream `id` waits for the worker (an open, or batches asked for): the worker keeps the process
   * alive meanwhile, as a pending read would; a stream nobody reads does not.
   */
  waiting(id: number, yes: boolean): void {
    const before = this.waitingFor.size;
    if (yes) this.waitingFor.add(id);
    else this.waitingFor.delete(id);
    if (before === 0 && this.waitingFor.size > 0) this.worker.ref();
    else if (before > 0 && this.waitingFor.size === 0) this.worker.unref();
  }
}

const pool: LayerWorker[] = [];
let nextId = 1;

function pickWorker(max: number): LayerWorker {
  for (let i = pool.length - 1; i >= 0; i--) if (pool[i]!.dead) pool.splice(i, 1);
  const idle = pool.find((w) => w.consumers.size === 0);
  if (idle) return idle;
  if (pool.length < max) {
    const w = new LayerWorker();
    pool.push(w);
    return w;
  }
  return pool.reduce((a, b) => (b.consumers.size < a.consumers.size ? b : a));
}

/** Opens the layer on a worker thread (or on this one when IMGCOPY_LAYER_THREADS=0). */
export async function produceLayer(input: LayerStreamInput): Promise<ProducedLayer> {
  const threads = layerThreads();
  if (threads === 0) {
    return openLayer(input);
  }
  if (input.signal?.aborted) throw new AbortedError(`layer ${input.layer.id}: aborted`);
  const request: LayerOpenRequest = {
    location: input.location,
    layer: input.layer,
    lowers: input.lowers,
    layerStoreRoot: input.layerStoreRoot,
    mtime: input.mtime,
  };
  return openOnWorker(pickWorker(threads), nextId++, request, input);
}

function openOnWorker(worker: LayerWorker, id: number, request: LayerOpenRequest, input: LayerStreamInput): Promise<ProducedLayer> {
  const what = `layer ${input.layer.id}`;
  let produced: { digest: string; size: number } | undefined;
  let granted = 0;
  let finished = false;
  let opened: ((verifies: SelfCheck | undefined) => void) | undefined;
  let failedOpen: ((err: Error) => void) | undefined;
  const signal = input.signal;
  const ring = new SharedArrayBuffer(RING_SLOTS * BATCH_BYTES);
  const slots = Buffer.from(ring);

  const finish = (): void => {
    if (finished) return;
    finished = true;
    worker.detach(id);
    signal?.removeEventListener("abort", onAbort);
  };
  const stream = new Readable({
    highWaterMark: BATCH_BYTES,
    read() {
      if (finished || granted >= CREDIT_WINDOW) return;
      worker.post({ type: "credit", id, chunks: CREDIT_WINDOW - granted });
      granted = CREDIT_WINDOW;
      worker.waiting(id, true);
    },
    destroy(err, callback) {
      if (!finished) worker.post({ type: "cancel", id });
      finish();
      callback(err);
    },
  });
  const fail = (err: Error): void => {
    finish();
    if (failedOpen) failedOpen(err);
    else stream.destroy(err);
  };
  function onAbort(): void {
    fail(new AbortedError(`${what}: aborted`, { cause: signal?.reason }));
    worker.post({ type: "cancel", id });
  }
  signal?.addEventListener("abort", onAbort, { once: true });

  worker.attach(id, {
    onMessage(m) {
      switch (m.type) {
        case "opened":
          worker.waiting(id, false);
          failedOpen = undefined;
          opened?.(m.verifies);
          return;
        case "data": {
          // Copied out at once (by this thread, into its own memory): the slot can be filled again.
          const chunk = Buffer.allocUnsafe(m.length);
          slots.copy(chunk, 0, m.slot * BATCH_BYTES, m.slot * BATCH_BYTES + m.length);
          if (--granted === 0) worker.waiting(id, false);
          stream.push(chunk);
          noteExternalGarbage(m.length);
          return;
        }
        case "warn":
          input.warn?.(m.message);
          return;
        case "end":
          if (m.digest !== undefined) produced = { digest: m.digest, size: m.size };
          finish();
          stream.push(null);
          return;
        case "error":
          fail(revivedError(m.error));
          return;
      }
    },
    onWorkerLost(err) {
      fail(new IOError(`${what}: ${err.message}`, { cause: err }));
    },
  });
  return new Promise<ProducedLayer>((resolve, reject) => {
    opened = (verifies) => resolve(verifies ? { stream, verifies } : { stream, verifies, producedDigest: () => produced });
    failedOpen = reject;
    worker.waiting(id, true);
    worker.post({ type: "open", id, request, ring });
  });
}
