// OCI <-> Docker v2s2 conversion of manifests and indexes/lists. Only media types and the fields a
// format has change; the config blob is the same JSON in both formats.
import { UnsupportedError } from "../errors.js";
import { mapLayerMediaType } from "../compression/layer-media-types.js";
import type { Descriptor, ImageIndex, ImageManifest, ManifestFormat, Platform } from "./manifest-types.js";
import {
  DOCKER_CONFIG,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
} from "./media-types.js";

const CONFIG_TYPE: Record<ManifestFormat, string> = { oci: OCI_CONFIG, docker: DOCKER_CONFIG };
const MANIFEST_TYPE: Record<ManifestFormat, string> = { oci: OCI_MANIFEST, docker: DOCKER_MANIFEST };
const INDEX_TYPE: Record<ManifestFormat, string> = { oci: OCI_INDEX, docker: DOCKER_LIST };

/** The manifest (kind "manifest") or index (kind "index") media type of a format. */
export function manifestTypeFor(format: ManifestFormat, kind: "manifest" | "index"): string {
  return kind === "manifest" ? MANIFEST_TYPE[format] : INDEX_TYPE[format];
}

/** A descriptor with the fields (and field order) of the target format. */
export function descriptorFor(format: ManifestFormat, d: Descriptor, mediaType = d.mediaType): Descriptor {
  if (format === "docker") {
    const out: Descriptor = { mediaType, size: d.size, digest: d.digest };
    if (d.urls?.length) out.urls = [...d.urls];
    if (d.platform) out.platform = platformCopy(d.platform);
    return out;
  }
  const out: Descriptor = { mediaType, digest: d.digest, size: d.size };
  if (d.urls?.length) out.urls = [...d.urls];
  if (d.annotations && Object.keys(d.annotations).length > 0) out.annotations = { ...d.annotations };
  if (d.data !== undefined) out.data = d.data;
  if (d.platform) out.platform = platformCopy(d.platform);
  if (d.artifactType !== undefined) out.artifactType = d.artifactType;
  return out;
}

function platformCopy(p: Platform): Platform {
  const out: Platform = { architecture: p.architecture, os: p.os };
  if (p["os.version"] !== undefined) out["os.version"] = p["os.version"];
  if (p["os.features"] !== undefined) out["os.features"] = [...p["os.features"]];
  if (p.variant !== undefined) out.variant = p.variant;
  if (p.features !== undefined) out.features = [...p.features];
  return out;
}

/** The config media type in `to`; an artifact's config cannot become a Docker image's. */
export function mapConfigMediaType(mediaType: string, to: ManifestFormat, what: string): string {
  if (mediaType === OCI_CONFIG || mediaType === DOCKER_CONFIG) return CONFIG_TYPE[to];
  if (to === "oci") return mediaType;
  throw new UnsupportedError(`${what}: config of type ${mediaType} is not an image config; a Docker v2s2 manifest cannot describe it`);
}

/**
 * Converts an image manifest to `to` ("oci" or "docker"). Layer types keep their compression;
 * a zstd layer or an unknown layer type cannot become Docker (UnsupportedError). Annotations are
 * kept for OCI and dropped for Docker, which has no place for them.
 */
export function convertManifest(m: ImageManifest, to: ManifestFormat, what: string): ImageManifest {
  const layers = m.layers.map((layer, i) => {
    const mapped = mapLayerMediaType(layer.mediaType, to, `${what}: layers[${i}]`);
    if (mapped === undefined && to === "docker") {
      throw new UnsupportedError(`${what}: layers[${i}] has media type ${layer.mediaType}, which a Docker v2s2 manifest cannot describe`);
    }
    return descriptorFor(to, layer, mapped ?? layer.mediaType);
  });
  const out: ImageManifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE[to],
    config: descriptorFor(to, m.config, mapConfigMediaType(m.config.mediaType, to, what)),
    layers,
  };
  if (to === "oci") {
    if (m.subject) out.subject = descriptorFor("oci", m.subject);
    if (m.artifactType !== undefined) out.artifactType = m.artifactType;
    if (m.annotations && Object.keys(m.annotations).length > 0) out.annotations = { ...m.annotations };
  }
  return out;
}

/** The manifest type an index entry gets in `to`; UnsupportedError for what Docker lists cannot hold. */
function mapEntryMediaType(mediaType: string, to: ManifestFormat, what: string): string {
  if (mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST) return MANIFEST_TYPE[to];
  if (mediaType === OCI_INDEX || mediaType === DOCKER_LIST) return INDEX_TYPE[to];
  if (to === "oci") return mediaType;
  throw new UnsupportedError(`${what}: an entry of type ${mediaType} cannot be part of a Docker manifest list`);
}

/**
 * Converts an index/list to `to`. Entry media types are mapped (the entries themselves must be
 * converted by the caller); Docker lists require a platform on every entry.
 */
export function convertIndex(index: ImageIndex, to: ManifestFormat, what: string): ImageIndex {
  const manifests = index.manifests.map((entry, i) => {
    if (to === "docker" && !entry.platform) {
      throw new UnsupportedError(`${what}: manifests[${i}] (${entry.digest}) has no platform, which a Docker manifest list requires`);
    }
    return descriptorFor(to, entry, mapEntryMediaType(entry.mediaType, to, what));
  });
  const out: ImageIndex = { schemaVersion: 2, mediaType: INDEX_TYPE[to], manifests };
  if (to === "oci") {
    if (index.subject) out.subject = descriptorFor("oci", index.subject);
    if (index.artifactType !== undefined) out.artifactType = index.artifactType;
    if (index.annotations && Object.keys(index.annotations).length > 0) out.annotations = { ...index.annotations };
  }
  return out;
}
