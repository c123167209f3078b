// The transforms one layer's bytes pass through on their way to the destination: the check of
// the source's digest, the (de)compression, and the hashes each digest needs, every byte hashed once.
import type { Transform } from "node:stream";
import type { DetectedCompression } from "../compression/detect-compression.js";
import { describeLayerMediaType } from "../compression/layer-media-types.js";
import { DigestingStream, VerifyingStream } from "../digest.js";
import { IOError } from "../errors.js";
import type { BlobStream, Digest } from "../types.js";
import type { CopyRun } from "./copy-run.js";
import type { LayerJob } from "./copy-layer.js";
import type { CompressionChoice, LayerOperation } from "./layer-plan.js";
import type { ProgressMeter } from "./progress-meter.js";
import { UncompressedDigestTap } from "./uncompressed-digest-tap.js";

/** How to read a digest once the stream has ended. */
export type Later = () => { digest: Digest; size: number };

/**
 * Each source byte is hashed once: by the source itself (digestVerified), by a verifier against
 * the digest the source named, or, for a placeholder, by a hasher when its digest is needed
 * (`needed`: kept as is, or a plain tar whose digest is the DiffID). Returns how to read it.
 */
export function checkSource(
  transforms: Transform[],
  job: LayerJob,
  blob: { digestVerified: boolean; producedDigest: BlobStream["producedDigest"] },
  total: number,
  needed: boolean,
  meter: ProgressMeter,
): Later | undefined {
  const { info, what } = job;
  if (info.placeholder) {
    if (!needed) return undefined;
    const produced = blob.producedDigest;
    if (produced) {
      // The source hashed what it produced: the same bytes the meter counted, or something is wrong.
      return () => {
        const d = produced();
        if (!d || d.size !== meter.bytes) throw new IOError(`${what}: the source did not report the digest of the ${meter.bytes} bytes it produced`);
        return d;
      };
    }
    const hasher = new DigestingStream();
    transforms.push(hasher);
    return () => ({ digest: hasher.digest(), size: hasher.size });
  }
  if (blob.digestVerified) return () => ({ digest: info.digest, size: meter.bytes });
  const verifier = new VerifyingStream(what, info.digest, total);
  transforms.push(verifier);
  return () => ({ digest: verifier.digest(), size: verifier.size });
}

/**
 * Appends the transforms of `op` (and the hashing of what is written and of the uncompressed
 * content, where no earlier hash already gives it) to `transforms`.
 */
export async function addOperation(
  transforms: Transform[],
  op: LayerOperation,
  actual: DetectedCompression,
  job: LayerJob,
  sourceDigest: Later | undefined,
  choice: CompressionChoice,
  run: CopyRun,
): Promise<{ written: Later; diffIdOf: () => Digest | undefined }> {
  const { what } = job;
  const level = run.options.level;
  const hashOut = (): Later => {
    const hasher = new DigestingStream();
    transforms.push(hasher);
    return () => ({ digest: hasher.digest(), size: hasher.size });
  };
  if (op === "compress" || op === "recompress") {
    let diffIdOf: () => Digest;
    if (op === "recompress") {
      transforms.push(await createDecompressor(actual as Exclude<DetectedCompression, "none">, what));
      const uncompressed = new DigestingStream();
      transforms.push(uncompressed);
      diffIdOf = () => uncompressed.digest();
    } else {
      const plain = sourceDigest as Later; // compress: the source is a plain tar, its digest is the DiffID
      diffIdOf = () => plain().digest;
    }
    transforms.push(await createCompressor(choice.algorithm, level));
    return { written: hashOut(), diffIdOf };
  }
  if (op === "decompress") {
    transforms.push(await createDecompressor(actual as Exclude<DetectedCompression, "none">, what));
    const written = hashOut();
    return { written, diffIdOf: () => written().digest };
  }
  const written = sourceDigest as Later; // keep: what is written is what the source gave
  if (!job.wantDiffId || !describeLayerMediaType(job.info.mediaType)) return { written, diffIdOf: () => undefined };
  if (actual === "none") return { written, diffIdOf: () => written().digest };
  // Compressed and kept: its digest proves the bytes; inflating it only for its DiffID is opt-in.
  if (!job.info.placeholder && !run.options.verifyDiffIds) return { written, diffIdOf: () => undefined };
  try {
    const tap = new UncompressedDigestTap(await createDecompressor(actual, what));
    transforms.push(tap);
    return { written, diffIdOf: () => tap.digest() };
  } catch (err) {
    if (job.info.placeholder) throw err;
    run.warn(`${what}: its DiffID is not verified: ${(err as Error).message}`);
    return { written, diffIdOf: () => undefined };
  }
}

/** The codecs, loaded by the first layer that is (de)compressed: a copy that keeps its layers as they are never loads them. */
type Codecs = typeof import("../compression/codec-streams.js");

async function createCompressor(...args: Parameters<Codecs["createCompressor"]>): Promise<Transform> {
  return (await import("../compression/codec-streams.js")).createCompressor(...args);
}

async function createDecompressor(...args: Parameters<Codecs["createDecompressor"]>): Promise<Transform> {
  return (await import("../compression/codec-streams.js")).createDecompressor(...args);
}
