// Gathers a layer's tar into fixed-size batches as it is made: headers are copied in and file
// contents read straight into the batch, so that everything after the producer (hashing, the
// engine's stream stages, the destination's writes) handles a few large chunks instead of tens of
// thousands of 512-byte headers and small files, and no buffer is allocated per read.
import { readSync } from "node:fs";
import { lend } from "../../../src/compression/lent-buffers.js";
/** Bytes per batch: big enough that per-chunk costs vanish, small enough to keep little in flight. */
export const BATCH_BYTES = 256 * 1024;

/**
 * Batches given back (src/compression/lent-buffers.ts) kept for refilling: as many as a layer has
 * on its way to the gzip stage at once; more are left to the GC.
 */
const SPARE_BATCHES = 8;

/**
 * The batch being filled. Every full batch handed out is lent (lent-buffers.ts): the consumer owns
 * it until a stage that copied it gives it back, and a batch never given back is garbage as before.
 * The generators yield a batch only once it is full, and flush() gives the partly filled last one
 * (a view, not lent). Reads are synchronous: the files are small or read in batch-sized pieces, and
 * a thread-pool round trip per read costs more than the read.
 */
export class TarBatches {
  private batch: Buffer | undefined;
  private filled = 0;
  private readonly spares: Buffer[] = [];
  private readonly takeBack = (batch: Buffer): void => {
    if (this.spares.length < SPARE_BATCHES) this.spares.push(batch);
  };

  constructor(private readonly size = BATCH_BYTES) {}

  /** Copies `bytes` in (a header, a raw tar-split segment, padding); yields each batch it fills. */
  *append(bytes: Buffer): Generator<Buffer> {
    for (let at = 0; at < bytes.length; ) {
      const batch = (this.batch ??= this.spares.pop() ?? Buffer.allocUnsafeSlow(this.size));
      const n = bytes.copy(batch, this.filled, at);
      this.filled += n;
      at += n;
      if (this.filled === this.size) yield this.take();
    }
  }

  /** `count` zero bytes (tar padding); yields each batch it fills. */
  *zeros(count: number): Generator<Buffer> {
    while (count > 0) {
      const batch = (this.batch ??= this.spares.pop() ?? Buffer.allocUnsafeSlow(this.size));
      const n = Math.min(count, this.size - this.filled);
      batch.fill(0, this.filled, this.filled + n);
      this.filled += n;
      count -= n;
      if (this.filled === this.size) yield this.take();
    }
  }

  /**
   * Reads the open file `fd` from offset 0 into the batches, up to `size` bytes; yields each batch
   * it fills and returns how many bytes it read (fewer: the file ended early; the caller decides
   * what that means). `stopped` is asked between reads (an abort throws from it).
   */
  *readFile(fd: number, size: number, stopped?: () => void): Generator<Buffer, number> {
    let position = 0;
    while (position < size) {
      stopped?.();
      const batch = (this.batch ??= this.spares.pop() ?? Buffer.allocUnsafeSlow(this.size));
      const want = Math.min(size - position, this.size - this.filled);
      const n = readSync(fd, batch, this.filled, want, position);
      if (n === 0) break;
      this.filled += n;
      position += n;
      if (this.filled === this.size) yield this.take();
    }
    return position;
  }

  /** What is gathered and not yet handed out (the end of the stream), or undefined. */
  flush(): Buffer | undefined {
    if (!this.batch || this.filled === 0) return undefined;
    const rest = this.batch.subarray(0, this.filled);
    this.batch = undefined;
    this.filled = 0;
    return rest;
  }

  private take(): Buffer {
    const full = this.batch as Buffer;
    this.batch = undefined;
    this.filled = 0;
    lend(full, this.takeBack);
    return full;
  }
}
