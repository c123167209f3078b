// A pass-through that also decompresses what flows through it on a side branch and hashes the
// result: the DiffID of a compressed layer copied unchanged, in the same single pass.
import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import type { Digest } from "../types.js";

export class UncompressedDigestTap extends Transform {
  private readonly hash = createHash("sha256");
  private readonly sideDone: Promise<void>;
  private result: Digest | undefined;

  /** `decompressor`: a fresh decompressing stream owned by this tap from now on. */
  constructor(private readonly decompressor: Transform) {
    super();
    decompressor.on("data", (chunk: Buffer) => this.hash.update(chunk));
    this.sideDone = new Promise((resolve, reject) => {
      decompressor.once("end", resolve);
      decompressor.once("error", reject);
    });
    // Corrupt compressed data fails the copy, even before the main branch ends.
    this.sideDone.catch((err: Error) => this.destroy(err));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.decompressor.write(chunk)) {
      done(null, chunk);
      return;
    }
    this.push(chunk);
    this.decompressor.once("drain", () => done());
  }

  override _flush(done: TransformCallback): void {
    this.decompressor.end();
    this.sideDone.then(() => {
      this.result = `sha256:${this.hash.digest("hex")}`;
      done();
    }, done);
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.decompressor.destroy();
    done(err);
  }

  /** The digest of the decompressed content; valid once the stream has ended. */
  digest(): Digest {
    if (this.result === undefined) throw new Error("UncompressedDigestTap.digest() called before the stream ended");
    return this.result;
  }
}
