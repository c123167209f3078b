// Copying one layer: reuse, or stream source -> verify -> (de)compress -> hash -> destination,
// computing its DiffID on the way.
import { addAbortSignal, type Readable, type Transform } from "node:stream";
import { detectCompression, type DetectedCompression } from "../compression/detect-compression.js";
import { describeLayerMediaType } from "../compression/layer-media-types.js";
import { hashFile } from "../digest.js";
import { CorruptInputError, DigestMismatchError, IOError, UnsupportedError, isImgcopyError } from "../errors.js";
import type { Descriptor, ManifestFormat } from "../manifest/manifest-types.js";
import type { CachedBlob } from "../blob-info-cache.js";
import type { BlobInfo, BlobStream, Digest } from "../types.js";
import type { CannotModifyReason, CopyRun } from "./copy-run.js";
import { chooseLayerOperation, compressionAfter, outputLayerMediaType, type CompressionChoice, type LayerOperation } from "./layer-plan.js";
import { ChunkCoalescer } from "./coalesce-chunks.js";
import { ProgressMeter } from "./progress-meter.js";
import { streamToDestination } from "./stream-to-destination.js";
import { addOperation, checkSource } from "./layer-transforms.js";

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
  /** Size of the uncompressed content, when the layer was read as a plain tar. */
  uncompressedSize?: number;
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

/** The layer as a blob the destination already holds (as it is, or compressed as wanted); undefined when it holds none. */
export async function reuseLayer(run: CopyRun, job: LayerJob): Promise<CopiedLayer | undefined> {
  const { info, what } = job;
  const known = describeLayerMediaType(info.mediaType);
  const choice: CompressionChoice = known ? job.choice : { ...job.choice, wish: "preserve" };
  const claimed = info.compression ?? known?.compression ?? "none";
  if (!info.placeholder && chooseLayerOperation(claimed, choice, what) === "keep") {
    const reused = await run.dest.tryReusingBlob(info);
    if (reused) {
      run.progress({ kind: "blob", digest: info.digest, bytes: reused.size, total: reused.size, state: "skipped" });
      const mediaType = outputLayerMediaType(info.mediaType, job.srcFormat, job.outFormat, "keep", reused.compression ?? claimed, what);
      return { descriptor: describe(info, mediaType, reused.digest, reused.size, reused.digest !== info.digest), diffId: reused.uncompressedDigest };
    }
  }
  return reuseCompressed(run, job, claimed, choice);
}

export async function copyLayer(run: CopyRun, job: LayerJob, signal: AbortSignal): Promise<CopiedLayer> {
  const { info, what } = job;
  const known = describeLayerMediaType(info.mediaType);
  const choice: CompressionChoice = known ? job.choice : { ...job.choice, wish: "preserve" };
  const claimed = info.compression ?? known?.compression ?? "none";
  const typeIfKept = (compression: DetectedCompression): string =>
    outputLayerMediaType(info.mediaType, job.srcFormat, job.outFormat, "keep", compression, what);

  const reused = await reuseLayer(run, job);
  if (reused) return reused;

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
    sent = await sendLayer(
      run,
      job,
      choice,
      { stream, digestVerified: blob.digestVerified === true, file: blob.file, producedDigest: blob.producedDigest },
      actual,
      total,
      signal,
    );
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
  const written = sent.stored.compression;
  if (run.cache && sent.changed && sent.diffId && (written === "gzip" || written === "zstd")) {
    const level = run.options.level;
    run.cache.cache.record(run.cache.location, sent.diffId, { digest, size, algorithm: written, ...(level !== undefined ? { level } : {}) });
  }
  const copied: CopiedLayer = { descriptor: describe(info, sent.mediaType, digest, size, sent.changed), diffId: sent.diffId };
  if (actual === "none" && sent.diffId !== undefined) copied.uncompressedSize = sent.bytesRead; // a plain tar: what was read is the layer
  return copied;
}

/**
 * A plain layer the destination wants compressed, whose DiffID is known: a blob the destination
 * already holds with that DiffID, compressed with the wanted algorithm, stands in for compressing
 * it again (the destination checks it; the blob-info cache only suggests candidates).
 */
async function reuseCompressed(run: CopyRun, job: LayerJob, claimed: DetectedCompression, choice: CompressionChoice): Promise<CopiedLayer | undefined> {
  const { info, what } = job;
  if (info.placeholder || !job.wantDiffId || !describeLayerMediaType(info.mediaType) || claimed !== "none") return undefined;
  if (chooseLayerOperation(claimed, choice, what) !== "compress") return undefined;
  if (run.options.level !== undefined) return undefined; // a level asked for explicitly: compress with it
  const diffId = info.digest;
  const algorithm = choice.algorithm;
  const asInfo = (c: CachedBlob): BlobInfo => ({ digest: c.digest, size: c.size, compression: c.algorithm });
  const candidates = run.cache?.cache.candidates(run.cache.location, diffId, algorithm).map(asInfo) ?? [];
  const scope = run.cache ? run.dest.blobCacheScope?.() : undefined;
  const nearby = run.cache && scope !== undefined ? run.cache.cache.nearbyCandidates(scope, run.cache.location, diffId, algorithm) : [];
  const nearbyCandidates = nearby.map((n) => ({ location: n.location, blob: asInfo(n.blob) }));
  const reused = await run.dest.tryReusingBlob(info, { compressTo: algorithm, candidates, ...(nearbyCandidates.length > 0 ? { nearbyCandidates } : {}) });
  if (!reused || reused.compression !== algorithm || reused.digest === diffId) {
    for (const c of candidates) run.cache?.cache.forget(run.cache.location, diffId, c.digest);
    return undefined;
  }
  run.cache?.cache.record(run.cache.location, diffId, { digest: reused.digest, size: reused.size, algorithm });
  run.progress({ kind: "blob", digest: info.digest, bytes: reused.size, total: reused.size, state: "skipped" });
  const mediaType = outputLayerMediaType(info.mediaType, job.srcFormat, job.outFormat, "compress", algorithm, what);
  return { descriptor: describe(info, mediaType, reused.digest, reused.size, true), diffId };
}

interface SentLayer {
  mediaType: string;
  changed: boolean;
  /** What we wrote, as hashed (or verified) on its way out. */
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
  blob: { stream: Readable; digestVerified: boolean; file: string | undefined; producedDigest: BlobStream["producedDigest"] },
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
  if (op === "keep" && blob.file !== undefined && canCopyFile(run, job, actual)) {
    blob.stream.destroy(); // only its first bytes were read (to detect the compression)
    const putInfo = describe(info, mediaType, info.digest, total, false);
    if (outCompression === "none" || outCompression === "gzip" || outCompression === "zstd") putInfo.compression = outCompression;
    return sendFile(run, job, blob.file, putInfo, actual, total, signal);
  }
  const meter = new ProgressMeter(run.progress, "blob", info.digest, total, info.placeholder === true);
  // A produced layer (many small files) arrives in tiny chunks: joined first, every later step handles fewer.
  const transforms: Transform[] = [new ChunkCoalescer(), meter];
  const sourceDigest = checkSource(transforms, job, blob, total, op === "keep" || actual === "none", meter);
  const { written, diffIdOf } = await addOperation(transforms, op, actual, job, sourceDigest, choice, run);

  const placeholder = op !== "keep" || info.placeholder === true;
  const putInfo = describe(info, mediaType, info.digest, placeholder ? -1 : total, op !== "keep");
  if (outCompression === "none" || outCompression === "gzip" || outCompression === "zstd") putInfo.compression = outCompression;
  if (placeholder) putInfo.placeholder = true;
  const streamDigest = { digest: () => written().digest, get size() { return written().size; } };
  const stored = await streamToDestination(blob.stream, transforms, (s) => run.dest.putBlob(s, putInfo, { isConfig: false, streamDigest }), signal, what);
  return {
    mediaType,
    changed: op !== "keep",
    written: written(),
    stored,
    bytesRead: meter.bytes,
    diffId: diffIdOf(),
  };
}

/**
 * A blob kept as it is, read from a file, into a destination that stores files: the destination
 * copies the file (copy_file_range or a reflink: no bytes through this process) and the copy is
 * hashed before it counts, so that what is verified is what was written. Not when the layer must
 * be inflated for its DiffID (--verify-diffids) or the source digest is unknown.
 */
function canCopyFile(run: CopyRun, job: LayerJob, actual: DetectedCompression): boolean {
  if (job.info.placeholder || run.dest.putBlobFromFile === undefined) return false;
  return actual === "none" || !run.options.verifyDiffIds || !job.wantDiffId || !describeLayerMediaType(job.info.mediaType);
}

async function sendFile(
  run: CopyRun,
  job: LayerJob,
  file: string,
  putInfo: BlobInfo & { mediaType: string },
  actual: DetectedCompression,
  total: number,
  signal: AbortSignal,
): Promise<SentLayer> {
  const { info, what } = job;
  let verified: { digest: Digest; size: number } | undefined;
  // The copy itself is one call into the kernel: progress is reported as its hash advances.
  const report = (bytes: number): void => run.progress({ kind: "blob", digest: info.digest, bytes, total, state: "progress" });
  const verify = async (copy: string): Promise<void> => {
    const got = await hashFile(copy, signal, report);
    if (total >= 0 && got.size !== total) throw new DigestMismatchError(what, `size ${total}`, `size ${got.size}`);
    if (got.digest !== info.digest) throw new DigestMismatchError(what, info.digest, got.digest);
    verified = got;
  };
  const putBlobFromFile = run.dest.putBlobFromFile as NonNullable<typeof run.dest.putBlobFromFile>;
  const stored = await putBlobFromFile.call(run.dest, file, putInfo, { isConfig: false, verify });
  signal.throwIfAborted();
  if (!verified) throw new IOError(`${what}: ${run.destName} stored the file without letting the engine verify it`);
  const plainTar = actual === "none" && job.wantDiffId && describeLayerMediaType(info.mediaType) !== undefined;
  const written: { digest: Digest; size: number } = verified;
  return { mediaType: putInfo.mediaType, changed: false, written, stored, bytesRead: written.size, diffId: plainTar ? written.digest : undefined };
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
