// Gzip on every core, the way pigz does it: the input is cut into blocks, each block is deflated on
// libuv's thread pool with the previous block's last 32 KiB as its dictionary (so the ratio stays
// that of one serial stream), and the raw deflate outputs are joined into ONE gzip member whose
// trailer carries the running CRC-32 and length. Any gzip reader decodes the result. Stretches that
// deflate cannot shrink (random, already compressed) go out as stored blocks (incompressible.ts).
import { availableParallelism } from "node:os";
import { Transform, type TransformCallback } from "node:stream";
import { constants, crc32, createDeflateRaw, type ZlibOptions } from "node:zlib";
import { noteExternalGarbage } from "./external-garbage.js";
import { planRuns, storedBlocks, type BlockRun } from "./incompressible.js";
import { giveBack } from "./lent-buffers.js";

const BLOCK = 1 << 20;
const WINDOW = 32 * 1024;
/**
 * zlib's memLevel: 9 (a hash table twice zlib's default) took 3-15% less CPU at level 4 on the bench's
 * /usr/include and locale layers (deflate alone, 4 interleaved pairs) for 0.4% more output.
 */
const MEM_LEVEL = 9;
/** 10-byte gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS unknown (as Go writes it). */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

/**
 * One queue for every gzip stream of the process: at most this many blocks deflate at once, all
 * layers together (more cannot run faster than the cores, and each holds its input and output).
 */
const SHARED_SLOTS = availableParallelism() + 1;
let busySlots = 0;
const waitingForSlot: Array<() => void> = [];

function acquireSlot(): Promise<void> | undefined {
  if (busySlots < SHARED_SLOTS) {
    busySlots++;
    return undefined;
  }
  return new Promise((resolve) => waitingForSlot.push(resolve));
}

function releaseSlot(): void {
  const next = waitingForSlot.shift();
  if (next) next(); // the slot passes straight on
  else busySlots--;
}

/**
 * Full input blocks are copied into 1 MiB buffers reused once their deflate is done, instead of a
 * fresh buffer each (which would wait for a garbage collection to be freed).
 */
const freeBlocks: Buffer[] = [];

function blockBuffer(): Buffer {
  return freeBlocks.pop() ?? Buffer.allocUnsafeSlow(BLOCK);
}

function recycleBlock(block: Buffer): void {
  if (block.length === BLOCK && freeBlocks.length < SHARED_SLOTS + 2) freeBlocks.push(block);
}

/**
 * Raw deflate of one block on libuv's pool: the zlib calls of zlib.deflateRaw (one write, then the
 * flush), so the same bytes, but its output pieces are kept as they come instead of joined (which
 * copied most blocks' output once more: a block's output is mostly over one 256 KiB piece).
 */
function deflateBlock(data: Buffer, options: ZlibOptions): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const pieces: Buffer[] = [];
    const deflater = createDeflateRaw(options);
    deflater.on("data", (piece: Buffer) => pieces.push(piece));
    deflater.once("error", reject);
    deflater.once("end", () => {
      deflater.close(); // frees zlib's state now
      resolve(pieces);
    });
    deflater.end(data);
  });
}

export class ParallelGzip extends Transform {
  /** The pooled block being filled (see _transform), and how much of it is. */
  private filling: Buffer | undefined;
  private filled = 0;
  /** Full blocks waiting for a deflate slot, in input order. */
  private readonly full: Buffer[] = [];
  private dictionary: Buffer | undefined;
  private crc = 0;
  private length = 0;
  private headerSent = false;
  /** Blocks being deflated, in input order; their outputs are pushed in that order. */
  private readonly inFlight: Promise<Buffer[]>[] = [];

  constructor(
    private readonly level: number,
    private readonly maxInFlight = 4,
  ) {
    super();
  }

  /**
   * The chunk is copied into pooled blocks at once, not held until a deflate slot is free: while the
   * slots are busy (deflate is the slow stage) a held chunk would live through several young-generation
   * collections and be promoted, and then only a full collection frees its external memory.
   */
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    for (let at = 0; at < chunk.length; ) {
      const block = (this.filling ??= blockBuffer());
      const n = chunk.copy(block, this.filled, at);
      at += n;
      this.filled += n;
      if (this.filled === BLOCK) {
        this.full.push(block);
        this.filling = undefined;
        this.filled = 0;
      }
    }
    // Copied, and not passed on: a lent batch goes back to its producer to be refilled; anything else
    // is garbage from now on.
    if (!giveBack(chunk)) noteExternalGarbage(chunk.length);
    this.drainFullBlocks().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    (acquireSlot() ?? Promise.resolve())
      .then(() => {
        const last = this.filling?.subarray(0, this.filled) ?? Buffer.alloc(0);
        this.filling = undefined;
        this.startBlock(last, true);
        return this.pushAll();
      })
      .then(() => {
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(this.crc >>> 0, 0);
        trailer.writeUInt32LE(this.length % 2 ** 32, 4);
        done(null, trailer);
      })
      .catch(done);
  }

  private async drainFullBlocks(): Promise<void> {
    while (this.full.length > 0) {
      await acquireSlot();
      this.startBlock(this.full.shift()!, false);
      // Backpressure: at most maxInFlight blocks are held at once.
      while (this.inFlight.length >= this.maxInFlight) this.pushOutput(await this.inFlight.shift()!);
    }
  }

  private startBlock(block: Buffer, last: boolean): void {
    // zlib's crc32 answers 0 for an empty buffer with no data pointer ("give me the initial value").
    if (block.length > 0) this.crc = crc32(block, this.crc);
    this.length += block.length;
    const runs = this.level > 0 ? planRuns(block) : [];
    const deflated =
      runs.length > 1 || runs[0]?.stored === true
        ? this.encodeRuns(block, runs, last)
        : deflateBlock(block, this.deflateOptions(last, this.dictionary));
    const done = (): void => {
      releaseSlot();
      recycleBlock(block);
    };
    deflated.then(done, done);
    deflated.catch(() => undefined); // awaited in order later; this only keeps an early failure from being "unhandled"
    this.inFlight.push(deflated);
    // Copied: the block's memory may be reused by the source once this call returns.
    this.dictionary = Buffer.from(block.subarray(Math.max(0, block.length - WINDOW)));
  }

  /**
   * A block with incompressible stretches: those become stored blocks (copied now, on this thread),
   * the rest is deflated run by run, each with the 32 KiB of input before it as its dictionary.
   */
  private async encodeRuns(block: Buffer, runs: BlockRun[], last: boolean): Promise<Buffer[]> {
    const parts = runs.map((run, i) => {
      const final = last && i === runs.length - 1;
      const data = block.subarray(run.start, run.end);
      if (run.stored) return [storedBlocks(data, final)];
      const dictionary = run.start === 0 ? this.dictionary : block.subarray(Math.max(0, run.start - WINDOW), run.start);
      return deflateBlock(data, this.deflateOptions(final, dictionary));
    });
    return (await Promise.all(parts)).flat();
  }

  private deflateOptions(final: boolean, dictionary: Buffer | undefined): ZlibOptions {
    return {
      level: this.level,
      memLevel: MEM_LEVEL,
      // One output buffer that holds a block's whole output (~1/4 of 1 MiB), not 16 KiB pieces joined
      // afterwards: half the garbage per block (peak RSS of a 2-layer gzip export 121-131 -> 106-112 MiB).
      chunkSize: 256 * 1024,
      // Not the last block: end on a byte boundary without the final bit, so the next block continues the stream.
      finishFlush: final ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      ...(dictionary ? { dictionary } : {}),
    };
  }

  private async pushAll(): Promise<void> {
    while (this.inFlight.length > 0) this.pushOutput(await this.inFlight.shift()!);
  }

  private pushOutput(pieces: Buffer[]): void {
    // Dead once written: zlib's output buffers (consecutive pieces may share one) and the dictionary
    // copy this block's successor replaced. The input was counted as it arrived (_transform).
    let bytes = WINDOW;
    let last: ArrayBufferLike | undefined;
    for (const piece of pieces) {
      if (piece.buffer !== last) bytes += piece.buffer.byteLength;
      last = piece.buffer;
    }
    noteExternalGarbage(bytes);
    if (!this.headerSent) {
      this.push(HEADER);
      this.headerSent = true;
    }
    for (const piece of pieces) this.push(piece);
  }
}
