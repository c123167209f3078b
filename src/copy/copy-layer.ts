// Copying one layer: reuse, or stream source -> verify -> (de)compress -> hash -> destination,
// computing its DiffID on the way.
import { addAbortSignal, type Readable, type Transform } from "node:stream";
import { createCompressor, createDecompressor } from "../compression/codec-streams.js";
import { detectCompression, type DetectedCompression } from "../compression/detect-compression.js";
import { describeLayerMediaType } from "../compression/layer-media-types.js";
import { DigestingStream, VerifyingStream } from "../digest.js";
import { CorruptInputError, DigestMismatchError, IOError, UnsupportedError, isImgcopyError } from "../errors.js";
import type { Descriptor, ManifestFormat } from "../manifest/manifest-types.js";
import type { BlobInfo, Digest } from "../types.js";
import type { CannotModifyReason, CopyRun } from "./copy-run.js";
import { chooseLayerOperation, compressionAfter, outputLayerMediaType, type CompressionChoice, type LayerOperation } from "./layer-plan.js";
import { ProgressMeter } from "./progress-meter.js";
import { streamToDestination } from "./stream-to-destination.js";
import { UncompressedDigestTap } from "./uncompressed-digest-tap.js";

export interface LayerJob {
  /** The source's info (from layerInfosForCopy or the manifest), mediaType filled in. */
  info: BlobInfo & { mediaType: string };
  /** Names the layer in messages: "layer sha256:... of oci:/x". */
  what: string;
  srcFormat: ManifestFormat;
  outFormat: ManifestFormat;
  choice: CompressionChoice;
  cannotModify: CannotModifyReason;
  /** False for an artifact's layers, which are not tars with a DiffID. */
  wantDiffId: boolean;
}

export interface CopiedLayer {
  /** The layer as the output manifest describes it. */
  descriptor: Descriptor;
  /** Digest of the uncompressed content, when computed (not for reused blobs). */
  diffId: Digest | undefined;
}

// Annotations that describe one particular compressed encoding and are wrong once the bytes change.
const ENCODING_ANNOTATION_PREFIXES = ["io.github.containers.zstd-chunked.", "io.github.containers.estargz.", "containerd.io/snapshot/stargz/"];

const VERB: Record<Exclude<LayerOperation, "keep">, string> = {
  compress: "compressed",
  decompress: "decompressed",
  recompress: "recompressed",
};

function describe(info: BlobInfo, mediaType: string, digest: Digest, size: number, changed: boolean): Descriptor & BlobInfo {
  const d: Descriptor & BlobInfo = { mediaType, digest, size };
  if (info.urls?.length) d.urls = [...info.urls];
  const annotations = Object.entries(info.annotations ?? {}).filter(
    ([key]) => !changed || !ENCODING_ANNOTATION_PREFIXES.some((p) => key.startsWith(p)),
  );
  if (annotations.length > 0) d.annotations = Object.fromEntries(annotations);
  return d;
}

export async function copyLayer(run: CopyRun, job: LayerJob, signal: AbortSignal): Promise<CopiedLayer> {
  const { info, what } = job;
  const known = describeLayerMediaType(info.mediaType);
  const choice: CompressionChoice = known ? job.choice : { ...job.choice, wish: "preserve" };
  const claimed = info.compression ?? known?.compression ?? "none";
  const typeIfKept = (compression: DetectedCompression): string =>
    outputLayerMediaType(info.mediaType, job.srcFormat, job.outFormat, "keep", compression, what);

  if (!info.placeholder && chooseLayerOperation(claimed, choice, what) === "keep") {
    const reused = await run.dest.tryReusingBlob(info);
    if (reused) {
      run.progress({ kind: "blob", digest: info.digest, bytes: reused.size, total: reused.size, state: "skipped" });
      const mediaType = typeIfKept(reused.compression ?? claimed);
      return { descriptor: describe(info, mediaType, reused.digest, reused.size, reused.digest !== info.digest), diffId: reused.uncompressedDigest };
    }
  }

  let blob;
  try {
    blob = await run.source.getBlob(info, signal);
  } catch (err) {
    if (known && !known.distributable && info.urls?.length && isImgcopyError(err) && err.code === "ENOTFOUND") {
      run.warn(`${what}: a non-distributable layer that ${run.srcName} does not hold; the manifest keeps pointing at ${info.urls[0]}`);
      return { descriptor: describe(info, typeIfKept(claimed), info.digest, info.size, false), diffId: undefined };
    }
    throw err;
  }
  const total = info.size >= 0 ? info.size : blob.size;
  run.progress({ kind: "blob", digest: info.digest, ...placeholderTag(info), bytes: 0, total, state: "start" });
  // Detection reads before the pipeline (and its signal) exists: a stalled source must still abort.
  const { algorithm: actual, stream } = await detectCompression(addAbortSignal(signal, blob.stream));
  let sent: SentLayer;
  try {
    sent = await sendLayer(run, job, choice, stream, actual, total, signal);
  } catch (err) {
    stream.destroy();
    throw explainStreamError(err, what, actual);
  }
  const { digest, size } = sent.written;
  if (sent.stored.digest !== digest) throw new DigestMismatchError(`${what} as stored by ${run.destName}`, digest, sent.stored.digest);
  if (sent.stored.size >= 0 && sent.stored.size !== size) {
    throw new DigestMismatchError(`${what} as stored by ${run.destName}`, `size ${size}`, `size ${sent.stored.size}`);
  }
  run.progress({
    kind: "blob",
    digest: info.digest,
    ...placeholderTag(info),
    bytes: sent.bytesRead,
    total,
    state: "done",
    ...(digest !== info.digest ? { storedDigest: digest } : {}),
  });
  return { descriptor: describe(info, sent.mediaType, digest, size, sent.changed), diffId: sent.diffId };
}

interface SentLayer {
  mediaType: string;
  changed: boolean;
  /** What we wrote, as hashed on its way out. */
  written: { digest: Digest; size: number };
  /** What the destination says it stored. */
  stored: BlobInfo;
  bytesRead: number;
  diffId: Digest | undefined;
}

/** Decides the layer's operation from its real compression and streams it into the destination. */
async function sendLayer(
  run: CopyRun,
  job: LayerJob,
  choice: CompressionChoice,
  stream: Readable,
  actual: DetectedCompression,
  total: number,
  signal: AbortSignal,
): Promise<SentLayer> {
  const { info, what } = job;
  const op = describeLayerMediaType(info.mediaType) ? chooseLayerOperation(actual, choice, what) : "keep";
  if (op !== "keep" && job.cannotModify) {
    throw new UnsupportedError(`${what}: the layer would have to be ${VERB[op]}, but ${job.cannotModify}`);
  }
  const outCompression = compressionAfter(actual, op, choice.algorithm);
  const mediaType = outputLayerMediaType(info.mediaType, job.srcFormat, job.outFormat, op, outCompression, what);
  const meter = new ProgressMeter(run.progress, "blob", info.digest, total, info.placeholder === true);
  const blobHasher = new DigestingStream();
  const transforms: Transform[] = info.placeholder ? [meter] : [new VerifyingStream(what, info.digest, total), meter];
  const diffIdOf = await addOperation(transforms, op, actual, job, blobHasher, choice, run);
  transforms.push(blobHasher);

  const placeholder = op !== "keep" || info.placeholder === true;
  const putInfo = describe(info, mediaType, info.digest, placeholder ? -1 : total, op !== "keep");
  if (outCompression === "none" || outCompression === "gzip" || outCompression === "zstd") putInfo.compression = outCompression;
  if (placeholder) putInfo.placeholder = true;
  const stored = await streamToDestination(stream, transforms, (s) => run.dest.putBlob(s, putInfo, { isConfig: false }), signal, what);
  return {
    mediaType,
    changed: op !== "keep",
    written: { digest: blobHasher.digest(), size: blobHasher.size },
    stored,
    bytesRead: meter.bytes,
    diffId: diffIdOf(),
  };
}

/**
 * Appends the transforms of `op` (and the hashing of the uncompressed content) to `transforms`;
 * returns how to read the DiffID once the stream has ended.
 */
async function addOperation(
  transforms: Transform[],
  op: LayerOperation,
  actual: DetectedCompression,
  job: LayerJob,
  blobHasher: DigestingStream,
  choice: CompressionChoice,
  run: CopyRun,
): Promise<() => Digest | undefined> {
  const { what } = job;
  const level = run.options.level;
  if (op === "compress" || op === "recompress") {
    if (op === "recompress") transforms.push(await createDecompressor(actual as Exclude<DetectedCompression, "none">, what));
    const uncompressed = new DigestingStream();
    transforms.push(uncompressed, await createCompressor(choice.algorithm, level));
    return () => uncompressed.digest();
  }
  if (op === "decompress") {
    transforms.push(await createDecompressor(actual as Exclude<DetectedCompression, "none">, what));
    return () => blobHasher.digest();
  }
  if (!job.wantDiffId || !describeLayerMediaType(job.info.mediaType)) return () => undefined;
  if (actual === "none") return () => blobHasher.digest();
  try {
    const tap = new UncompressedDigestTap(await createDecompressor(actual, what));
    transforms.push(tap);
    return () => tap.digest();
  } catch (err) {
    if (job.info.placeholder) throw err;
    run.warn(`${what}: its DiffID is not verified: ${(err as Error).message}`);
    return () => undefined;
  }
}

/** Our own errors pass; zlib's become CorruptInputError, other stream failures IOError, naming the layer. */
function explainStreamError(err: unknown, what: string, actual: DetectedCompression): unknown {
  if (isImgcopyError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.name === "AbortError" || e?.code === "ABORT_ERR") return err;
  if (typeof e?.code === "string" && e.code.startsWith("Z_")) {
    return new CorruptInputError(`${what}: corrupt ${actual} data (${e.message})`, { cause: err });
  }
  return new IOError(`${what}: ${e?.message ?? String(err)}`, { cause: err });
}

function placeholderTag(info: BlobInfo): { placeholder?: true } {
  return info.placeholder ? { placeholder: true } : {};
}
