// Building and serialising manifests from descriptors.
import { sha256 } from "../digest.js";
import type { Digest } from "../types.js";
import { convertManifest, descriptorFor, manifestTypeFor } from "./convert-manifest.js";
import type { Descriptor, ImageIndex, ImageManifest, ManifestFormat } from "./manifest-types.js";

/** A manifest as stored: its bytes, type and digest. */
export interface EncodedManifest {
  bytes: Uint8Array;
  mediaType: string;
  digest: Digest;
}

/**
 * The manifest of `format` for a config and layers, in manifest order. Media types are mapped to
 * the format (a Docker config/layer type becomes the OCI one and back); annotations only for OCI.
 */
export function buildImageManifest(
  format: ManifestFormat,
  config: Descriptor,
  layers: Descriptor[],
  annotations?: Record<string, string>,
  what = "new manifest",
): ImageManifest {
  const draft: ImageManifest = {
    schemaVersion: 2,
    mediaType: manifestTypeFor(format, "manifest"),
    config: descriptorFor("oci", config),
    layers: layers.map((l) => descriptorFor("oci", l)),
  };
  if (annotations && Object.keys(annotations).length > 0) draft.annotations = { ...annotations };
  return convertManifest(draft, format, what);
}

/** Compact JSON, as the Go tools write manifests. */
export function serializeManifest(m: ImageManifest | ImageIndex): Uint8Array {
  return Buffer.from(JSON.stringify(m), "utf8");
}

export function encodeManifest(m: ImageManifest | ImageIndex, mediaType: string): EncodedManifest {
  const bytes = serializeManifest(m);
  return { bytes, mediaType, digest: sha256(bytes) };
}
