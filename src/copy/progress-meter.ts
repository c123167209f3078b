// Progress events of a copy: a pass-through that counts bytes and reports every PROGRESS_STEP of them.
import { Transform, type TransformCallback } from "node:stream";
import type { Digest, ProgressEvent } from "../types.js";

/** Bytes between two "progress" events of one blob. */
export const PROGRESS_STEP = 256 * 1024;

export type ProgressSink = (event: ProgressEvent) => void;

export class ProgressMeter extends Transform {
  bytes = 0;
  private reported = 0;

  constructor(
    private readonly sink: ProgressSink,
    private readonly kind: ProgressEvent["kind"],
    private readonly digest: Digest | undefined,
    private readonly total: number,
    private readonly placeholder = false,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes - this.reported >= PROGRESS_STEP) {
      this.reported = this.bytes;
      try {
        this.sink({
          kind: this.kind,
          digest: this.digest,
          ...(this.placeholder ? { placeholder: true } : {}),
          bytes: this.bytes,
          total: this.total,
          state: "progress",
        });
      } catch (err) {
        done(err as Error);
        return;
      }
    }
    done(null, chunk);
  }
}
