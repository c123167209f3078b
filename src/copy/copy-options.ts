// The options of copyImage, and checking them before anything is opened or written.
import { UsageError } from "../errors.js";
import type { ManifestFormat } from "../manifest/manifest-types.js";
import type { CompressionAlgorithm, Digest, ProgressEvent, SystemContext } from "../types.js";

export interface CopyOptions {
  sourceCtx?: SystemContext;
  destCtx?: SystemContext;
  /** --format: force the output manifest type. */
  format?: "oci" | "v2s2";
  /** --dest-compress */
  compress?: boolean;
  /** --dest-decompress */
  decompress?: boolean;
  /** --dest-compress-format: "gzip" | "zstd"; anything else is refused before anything is written. */
  compressionFormat?: string;
  /** --dest-compress-level */
  compressionLevel?: number;
  /** --all: every instance of an index/list. */
  all?: boolean;
  removeSignatures?: boolean;
  /** Fail instead of changing any digest (no conversion, no recompression). */
  preserveDigests?: boolean;
  /**
   * --verify-diffids: decompress compressed layers copied unchanged to check their DiffIDs against
   * the config. Without it such a layer, already proved by its digest, is not decompressed (skopeo
   * does not either); DiffIDs are still checked wherever a layer is decompressed or produced.
   */
  verifyDiffIds?: boolean;
  /**
   * Use the blob-info cache ($XDG_CACHE_HOME/imgcopy): remember which compressed blobs hold which
   * DiffID at the destination, to reuse them instead of compressing again. Default true.
   */
  blobInfoCache?: boolean;
  onProgress?: (e: ProgressEvent) => void;
  signal?: AbortSignal;
  /** Layers copied at once when the destination allows it; default 6 (containers/image's). */
  concurrency?: number;
}

export interface CopyResult {
  manifestDigest: Digest;
  manifest: Uint8Array;
  mediaType: string;
}

/** CopyOptions checked and normalised. */
export interface ResolvedCopyOptions {
  format: ManifestFormat | undefined;
  /** What the user asked of layer compression; undefined = as the destination wants. */
  userWish: "compress" | "decompress" | undefined;
  algorithm: CompressionAlgorithm;
  /** True when --dest-compress-format named the algorithm (then other compressions are converted). */
  explicitAlgorithm: boolean;
  level: number | undefined;
  all: boolean;
  removeSignatures: boolean;
  preserveDigests: boolean;
  verifyDiffIds: boolean;
  blobInfoCache: boolean;
  concurrency: number;
}

export const DEFAULT_CONCURRENCY = 6;

/** Checks `options`; throws UsageError/UnsupportedError (e.g. bzip2, or zstd without its addon). */
export async function resolveCopyOptions(options: CopyOptions): Promise<ResolvedCopyOptions> {
  if (options.compress && options.decompress) {
    throw new UsageError("--dest-compress and --dest-decompress cannot be used together");
  }
  const format = options.format === undefined ? undefined : options.format === "oci" ? "oci" : options.format === "v2s2" ? "docker" : undefined;
  if (options.format !== undefined && format === undefined) {
    throw new UsageError(`--format ${JSON.stringify(options.format)} is not valid (oci or v2s2)`);
  }
  let algorithm: CompressionAlgorithm = "gzip";
  if (options.compressionFormat !== undefined || options.compressionLevel !== undefined) {
    // The codecs load only when a copy names one (a pull or a plain copy compresses nothing).
    const { checkCompressionLevel, parseCompressionAlgorithm } = await import("../compression/codec-streams.js");
    if (options.compressionFormat !== undefined) algorithm = parseCompressionAlgorithm(options.compressionFormat);
    if (options.compressionLevel !== undefined) checkCompressionLevel(algorithm, options.compressionLevel);
    if (algorithm === "zstd") await (await import("../compression/zstd-addon.js")).loadZstd();
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UsageError(`concurrency ${concurrency} is not valid (a whole number of at least 1)`);
  }
  return {
    format,
    userWish: options.decompress ? "decompress" : options.compress ? "compress" : undefined,
    algorithm,
    explicitAlgorithm: options.compressionFormat !== undefined,
    level: options.compressionLevel,
    all: options.all ?? false,
    removeSignatures: options.removeSignatures ?? false,
    preserveDigests: options.preserveDigests ?? false,
    verifyDiffIds: options.verifyDiffIds ?? false,
    blobInfoCache: options.blobInfoCache ?? true,
    concurrency,
  };
}
