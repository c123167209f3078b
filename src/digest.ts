// Digests: parsing, and hashing bytes as they flow.
import { createHash, type Hash } from "node:crypto";
import { open } from "node:fs/promises";
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

/** Read size of hashFile: few syscalls, and few enough buffers that they are kept and reused. */
const FILE_CHUNK = 1024 * 1024;
/** Free read buffers of hashFile (two per file being hashed, given back when it is done). */
const bufferPool: Buffer[] = [];

function takeBuffer(): Buffer {
  return bufferPool.pop() ?? Buffer.allocUnsafeSlow(FILE_CHUNK);
}

/**
 * The sha256 and size of a whole file, read with two pooled 1 MiB buffers: the next read runs in
 * the thread pool while this thread hashes the previous one. `onRead` gets the bytes hashed so far.
 */
export async function hashFile(path: string, signal?: AbortSignal, onRead?: (bytesSoFar: number) => void): Promise<{ digest: Digest; size: number }> {
  const fh = await open(path, "r");
  const buffers = [takeBuffer(), takeBuffer()];
  const hash = createHash("sha256");
  let size = 0;
  let reading: Promise<{ bytesRead: number }> | undefined;
  try {
    reading = fh.read(buffers[0] as Buffer, 0, FILE_CHUNK, 0);
    for (let turn = 0; ; turn ^= 1) {
      const { bytesRead } = await reading;
      reading = undefined;
      if (bytesRead === 0) break;
      signal?.throwIfAborted();
      const full = buffers[turn] as Buffer;
      size += bytesRead;
      reading = fh.read(buffers[turn ^ 1] as Buffer, 0, FILE_CHUNK, size);
      hash.update(bytesRead === FILE_CHUNK ? full : full.subarray(0, bytesRead));
      onRead?.(size);
    }
  } finally {
    // A read still in flight writes into its buffer: wait for it before the buffer is reused.
    await reading?.catch(() => undefined);
    bufferPool.push(...buffers);
    await fh.close();
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}
