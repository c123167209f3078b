// Deciding what happens to a layer's bytes and which media type it gets in the output manifest.
import { describeLayerMediaType, layerMediaType } from "../compression/layer-media-types.js";
import type { DetectedCompression } from "../compression/detect-compression.js";
import { UnsupportedError } from "../errors.js";
import type { ManifestFormat } from "../manifest/manifest-types.js";
import type { CompressionAlgorithm, LayerCompressionWish } from "../types.js";

/** keep: bytes unchanged; the others change the blob and so its digest. */
export type LayerOperation = "keep" | "compress" | "decompress" | "recompress";

export interface CompressionChoice {
  wish: LayerCompressionWish;
  algorithm: CompressionAlgorithm;
  /** The user named the algorithm: a layer compressed otherwise is recompressed when compressing. */
  explicitAlgorithm: boolean;
}

/** What to do with a layer whose bytes are `actual`-compressed. `what` names the layer in errors. */
export function chooseLayerOperation(actual: DetectedCompression, choice: CompressionChoice, what: string): LayerOperation {
  if (choice.wish === "preserve") return "keep";
  if (actual === "bzip2" || actual === "xz") {
    throw new UnsupportedError(`${what}: the layer is ${actual}-compressed, which imgcopy cannot decompress to ${choice.wish === "decompress" ? "store it uncompressed" : `recompress it with ${choice.algorithm}`}`);
  }
  if (choice.wish === "decompress") return actual === "none" ? "keep" : "decompress";
  if (actual === "none") return "compress";
  return actual !== choice.algorithm && choice.explicitAlgorithm ? "recompress" : "keep";
}

/** The compression of the bytes written for a layer. */
export function compressionAfter(actual: DetectedCompression, op: LayerOperation, algorithm: CompressionAlgorithm): DetectedCompression {
  switch (op) {
    case "keep":
      return actual;
    case "decompress":
      return "none";
    default:
      return algorithm;
  }
}

/**
 * The output media type of a layer of source type `srcType`. Kept bytes in the same format keep
 * their type verbatim (so the manifest need not change); otherwise the type follows the format and
 * the real compression. Unknown types are kept for OCI and refused for Docker.
 */
export function outputLayerMediaType(
  srcType: string,
  srcFormat: ManifestFormat,
  outFormat: ManifestFormat,
  op: LayerOperation,
  outCompression: DetectedCompression,
  what: string,
): string {
  const known = describeLayerMediaType(srcType);
  if (!known) {
    if (outFormat === "oci" || srcFormat === outFormat) return srcType;
    throw new UnsupportedError(`${what}: media type ${srcType} cannot be described by a Docker v2s2 manifest`);
  }
  if (op === "keep" && srcFormat === outFormat) return srcType;
  const compression = outCompression === "bzip2" || outCompression === "xz" ? known.compression : outCompression;
  return layerMediaType(outFormat, compression, known.distributable, what);
}
