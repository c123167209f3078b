// Layer media types <-> (manifest format, compression, distributable) for OCI and Docker v2s2.
import { UnsupportedError } from "../errors.js";
import {
  DOCKER_FOREIGN_LAYER_GZIP,
  DOCKER_FOREIGN_LAYER_TAR,
  DOCKER_LAYER_GZIP,
  DOCKER_LAYER_TAR,
  OCI_LAYER_GZIP,
  OCI_LAYER_NONDIST_GZIP,
  OCI_LAYER_NONDIST_TAR,
  OCI_LAYER_NONDIST_ZSTD,
  OCI_LAYER_TAR,
  OCI_LAYER_ZSTD,
} from "../manifest/media-types.js";
import type { ManifestFormat } from "../manifest/manifest-types.js";
import type { CompressionAlgorithm } from "../types.js";

export type LayerCompression = CompressionAlgorithm | "none";

/** What a tar layer media type says about its blob. */
export interface LayerType {
  format: ManifestFormat;
  compression: LayerCompression;
  /** False for OCI non-distributable and Docker foreign layers (content may live at `urls`). */
  distributable: boolean;
}

const TABLE: Array<[string, LayerType]> = [
  [OCI_LAYER_TAR, { format: "oci", compression: "none", distributable: true }],
  [OCI_LAYER_GZIP, { format: "oci", compression: "gzip", distributable: true }],
  [OCI_LAYER_ZSTD, { format: "oci", compression: "zstd", distributable: true }],
  [OCI_LAYER_NONDIST_TAR, { format: "oci", compression: "none", distributable: false }],
  [OCI_LAYER_NONDIST_GZIP, { format: "oci", compression: "gzip", distributable: false }],
  [OCI_LAYER_NONDIST_ZSTD, { format: "oci", compression: "zstd", distributable: false }],
  [DOCKER_LAYER_TAR, { format: "docker", compression: "none", distributable: true }],
  [DOCKER_LAYER_GZIP, { format: "docker", compression: "gzip", distributable: true }],
  [DOCKER_FOREIGN_LAYER_TAR, { format: "docker", compression: "none", distributable: false }],
  [DOCKER_FOREIGN_LAYER_GZIP, { format: "docker", compression: "gzip", distributable: false }],
];

const BY_TYPE = new Map(TABLE);

/** What `mediaType` says about a layer; undefined for a type that is not a tar layer we know. */
export function describeLayerMediaType(mediaType: string): LayerType | undefined {
  return BY_TYPE.get(mediaType);
}

/** The compression a layer media type declares; undefined when the type is not a known tar layer. */
export function compressionOfMediaType(mediaType: string): LayerCompression | undefined {
  return BY_TYPE.get(mediaType)?.compression;
}

/**
 * The layer media type for a format and compression. Docker has no zstd type: UnsupportedError
 * (naming `what` when given).
 */
export function layerMediaType(format: ManifestFormat, compression: LayerCompression, distributable = true, what?: string): string {
  for (const [type, t] of TABLE) {
    if (t.format === format && t.compression === compression && t.distributable === distributable) return type;
  }
  const prefix = what ? `${what}: ` : "";
  throw new UnsupportedError(`${prefix}a Docker v2s2 manifest cannot describe a ${compression}-compressed layer (use --format oci, or --dest-compress-format gzip)`);
}

/** The same layer in the other format (compression and distributability kept); unknown types: undefined. */
export function mapLayerMediaType(mediaType: string, to: ManifestFormat, what?: string): string | undefined {
  const t = BY_TYPE.get(mediaType);
  if (!t) return undefined;
  if (t.format === to) return mediaType;
  return layerMediaType(to, t.compression, t.distributable, what);
}
