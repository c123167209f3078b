// Detecting a blob's compression from its first bytes without losing them.
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";

/** What the magic bytes say; "none" for anything else (a plain tar, or a short blob). */
export type DetectedCompression = "gzip" | "zstd" | "bzip2" | "xz" | "none";

const MAGIC: Array<[DetectedCompression, number[]]> = [
  ["gzip", [0x1f, 0x8b]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
];

/** The longest magic: how many bytes detection needs. */
export const MAGIC_LENGTH = Math.max(...MAGIC.map(([, m]) => m.length));

/** The compression whose magic `head` starts with. */
export function compressionOfMagic(head: Uint8Array): DetectedCompression {
  for (const [name, magic] of MAGIC) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return name;
  }
  return "none";
}

/**
 * A pass-through that holds back the first MAGIC_LENGTH bytes until it has seen them (or the end),
 * settles `detected`, then lets every byte through unchanged.
 */
export class CompressionSniffer extends Transform {
  readonly detected: Promise<DetectedCompression>;
  private settle!: (value: DetectedCompression) => void;
  private fail!: (err: Error) => void;
  private head: Buffer[] = [];
  private headLength = 0;
  private decided = false;

  constructor() {
    super();
    this.detected = new Promise((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
    this.detected.catch(() => undefined); // the error also reaches whoever reads the stream
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.decided) {
      done(null, chunk);
      return;
    }
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength >= MAGIC_LENGTH) this.decide();
    done();
  }

  override _flush(done: TransformCallback): void {
    if (!this.decided) this.decide();
    done();
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    if (!this.decided) this.fail(err ?? new Error("stream closed before its first bytes were read"));
    done(err);
  }

  private decide(): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.decided = true;
    this.settle(compressionOfMagic(head));
    if (head.length > 0) this.push(head);
  }
}

/**
 * Reads the first bytes of `input` and returns the compression they show, with a stream that
 * yields every byte of `input`, the first ones included. Errors of `input` reach that stream.
 */
export async function detectCompression(input: Readable): Promise<{ algorithm: DetectedCompression; stream: Readable }> {
  const sniffer = new CompressionSniffer();
  pipeline(input, sniffer).catch(() => undefined); // failures destroy `sniffer`, whose reader sees them
  const algorithm = await sniffer.detected;
  return { algorithm, stream: sniffer };
}
