// Compressing and decompressing streams: gzip through Node's zlib, zstd through the optional addon.
import type { Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import { UnsupportedError, UsageError } from "../errors.js";
import type { CompressionAlgorithm } from "../types.js";
import type { DetectedCompression } from "./detect-compression.js";
import { ParallelGzip } from "./parallel-gzip.js";
import { loadZstd } from "./zstd-addon.js";

/** Compression levels each algorithm accepts (zstd: negative levels are its fast modes). */
const LEVELS: Record<CompressionAlgorithm, [number, number]> = { gzip: [0, 9], zstd: [-7, 22] };

/** The algorithm named by a user ("gzip", "zstd"); bzip2, xz and others: UnsupportedError. */
export function parseCompressionAlgorithm(name: string): CompressionAlgorithm {
  if (name === "gzip" || name === "zstd") return name;
  if (name === "bzip2" || name === "xz") {
    throw new UnsupportedError(`compression format ${name} is not supported for layers: no image media type exists for ${name} layers (use gzip or zstd)`);
  }
  throw new UnsupportedError(`unknown compression format ${JSON.stringify(name)} (use gzip or zstd)`);
}

/** Throws UsageError unless `level` is valid for `algorithm`. */
export function checkCompressionLevel(algorithm: CompressionAlgorithm, level: number): void {
  const [min, max] = LEVELS[algorithm];
  if (!Number.isInteger(level) || level < min || level > max) {
    throw new UsageError(`compression level ${level} is not valid for ${algorithm} (${min}..${max})`);
  }
}

/**
 * gzip's default level. zlib's level 4 (memLevel 9, incompressible stretches stored) gives the output
 * size that containers/image's default gzip gives (126.49 vs 126.39 MB on the bench container's 372 MB
 * of tar) for ~60% of the CPU of level 6; levels 1-3 are 4-8% larger (README, "Gzip").
 */
export const DEFAULT_GZIP_LEVEL = 4;

/** Decompressor output chunk: 64 KiB makes inflate ~30% faster than zlib's 16 KiB default here. */
const INFLATE_CHUNK = 64 * 1024;

/** A stream that compresses what is written to it; `level` undefined = the algorithm's default. */
export async function createCompressor(algorithm: CompressionAlgorithm, level?: number): Promise<Transform> {
  if (level !== undefined) checkCompressionLevel(algorithm, level);
  if (algorithm === "gzip") return new ParallelGzip(level ?? DEFAULT_GZIP_LEVEL);
  const zstd = await loadZstd();
  return new zstd.CompressStream(level === undefined ? {} : { compressionLevel: level });
}

/**
 * A stream that decompresses gzip (several members too) or zstd (several frames too); bzip2 and xz:
 * UnsupportedError naming `what`.
 */
export async function createDecompressor(algorithm: Exclude<DetectedCompression, "none">, what = "blob"): Promise<Transform> {
  switch (algorithm) {
    case "gzip":
      return createGunzip({ chunkSize: INFLATE_CHUNK });
    case "zstd":
      return new (await loadZstd()).DecompressStream();
    default:
      throw new UnsupportedError(`${what}: ${algorithm}-compressed content cannot be decompressed by imgcopy (only gzip and zstd)`);
  }
}
