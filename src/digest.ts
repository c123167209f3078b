// Digests: parsing, and hashing bytes as they flow.
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { BadReferenceError, DigestMismatchError } from "./errors.js";
import type { Digest } from "./types.js";

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isDigest(text: string): boolean {
  return DIGEST_RE.test(text);
}

/** Throws BadReferenceError naming `what` unless `text` is a sha256 digest. */
export function parseDigest(text: string, what = "digest"): Digest {
  if (!DIGEST_RE.test(text)) {
    throw new BadReferenceError(`${what} ${JSON.stringify(text)} is not a sha256 digest (sha256:<64 hex digits>)`);
  }
  return text;
}

/** The hex part of a digest ("sha256:abc" -> "abc"). */
export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(":") + 1);
}

export function sha256(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * A pass-through that hashes and counts what flows through it. `digest()`/`size` are final
 * once the stream has ended.
 */
export class DigestingStream extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private result: Digest | undefined;
  size = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.result = `sha256:${this.hash.digest("hex")}`;
    done();
  }

  digest(): Digest {
    if (this.result === undefined) throw new Error("DigestingStream.digest() called before the stream ended");
    return this.result;
  }
}

/**
 * A pass-through that fails (before its last byte leaves) unless what flowed through matches
 * `expected` digest and, when >= 0, `expectedSize`. `what` names the blob in the error.
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash = createHash("sha256");
  size = 0;

  constructor(
    private readonly what: string,
    private readonly expected: Digest,
    private readonly expectedSize: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.expectedSize >= 0 && this.size > this.expectedSize) {
      done(new DigestMismatchError(this.what, `size ${this.expectedSize}`, `more than ${this.expectedSize} bytes`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.expectedSize >= 0 && this.size !== this.expectedSize) {
      done(new DigestMismatchError(this.what, `size ${this.expectedSize}`, `size ${this.size}`));
      return;
    }
    const actual = `sha256:${this.hash.digest("hex")}`;
    if (actual !== this.expected) {
      done(new DigestMismatchError(this.what, this.expected, actual));
      return;
    }
    this.verified = true;
    done();
  }

  private verified = false;

  /** The expected digest, once the bytes proved it (the stream has ended). */
  digest(): Digest {
    if (!this.verified) throw new Error("VerifyingStream.digest() called before the stream ended");
    return this.expected;
  }
}
