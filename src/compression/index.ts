// Compression: detection by magic bytes, (de)compressing streams, layer media type mapping.
export { detectCompression, compressionOfMagic, CompressionSniffer, MAGIC_LENGTH, type DetectedCompression } from "./detect-compression.js";
export { createCompressor, createDecompressor, parseCompressionAlgorithm, checkCompressionLevel } from "./codec-streams.js";
export { loadZstd, zstdAvailable, importZstdAddon, type ZstdAddon } from "./zstd-addon.js";
export {
  describeLayerMediaType,
  compressionOfMediaType,
  layerMediaType,
  mapLayerMediaType,
  type LayerCompression,
  type LayerType,
} from "./layer-media-types.js";
