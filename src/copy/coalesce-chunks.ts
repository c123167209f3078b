// Joins a stream's small chunks (a layer produced from many small files: 512-byte tar headers and
// small contents) into ~256 KiB ones, so that every later step (hashing, compression, the
// destination's writes) handles a few large chunks instead of tens of thousands of tiny ones.
import { Transform, type TransformCallback } from "node:stream";

const TARGET = 256 * 1024;
/** Chunks at least this big go through as they are (after what was gathered before them). */
const PASS_THROUGH = 64 * 1024;

export class ChunkCoalescer extends Transform {
  private batch: Buffer | undefined;
  private filled = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (chunk.length >= PASS_THROUGH) {
      this.pushBatch();
      done(null, chunk);
      return;
    }
    if (this.batch && this.filled + chunk.length > TARGET) this.pushBatch();
    this.batch ??= Buffer.allocUnsafeSlow(TARGET);
    chunk.copy(this.batch, this.filled);
    this.filled += chunk.length;
    done();
  }

  override _flush(done: TransformCallback): void {
    this.pushBatch();
    done();
  }

  private pushBatch(): void {
    if (!this.batch || this.filled === 0) return;
    this.push(this.batch.subarray(0, this.filled));
    this.batch = undefined;
    this.filled = 0;
  }
}
