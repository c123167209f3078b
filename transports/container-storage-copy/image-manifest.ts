// The OCI manifest and copy infos of an image built from store records, without reading layer
// content: known layers carry their record's DiffID; layers not yet diffed get a placeholder.
import { sha256 } from "../../src/digest.js";
import { OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST } from "../../src/manifest/media-types.js";
import type { BlobInfo, Digest } from "../../src/types.js";
import type { LayerRecord } from "./store/record-types.js";
import type { Located } from "./store/records.js";

/** One layer of the image, as the manifest describes it. */
export interface ImageLayer {
  located: Located<LayerRecord>;
  /** The DiffID (uncompressed digest), or a placeholder. */
  digest: Digest;
  /** Uncompressed size, -1 when unknown. */
  size: number;
  placeholder: boolean;
}

/** A stable stand-in digest for a layer whose DiffID is not known until it is streamed. */
export function placeholderDigest(layerId: string): Digest {
  return sha256(`imgcopy-placeholder:${layerId}`);
}

export function describeLayers(chain: Located<LayerRecord>[]): ImageLayer[] {
  return chain.map((located) => {
    const r = located.record;
    const known = typeof r["diff-digest"] === "string" && /^sha256:[0-9a-f]{64}$/.test(r["diff-digest"]);
    if (!known) return { located, digest: placeholderDigest(r.id), size: -1, placeholder: true };
    return { located, digest: r["diff-digest"]!, size: typeof r["diff-size"] === "number" ? r["diff-size"] : -1, placeholder: false };
  });
}

/** An OCI image manifest: uncompressed layers; a placeholder layer gets size 0 (the engine fixes both). */
export function buildOciManifest(configBytes: Uint8Array, layers: ImageLayer[], annotations: Record<string, string>): Uint8Array {
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256(configBytes), size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: OCI_LAYER_TAR, digest: l.digest, size: Math.max(l.size, 0) })),
  };
  if (Object.keys(annotations).length > 0) manifest.annotations = annotations;
  return Buffer.from(JSON.stringify(manifest), "utf8");
}

/** What the engine copies: placeholders flagged, known layers with their DiffID, all uncompressed. */
export function layerInfosForCopy(layers: ImageLayer[]): BlobInfo[] {
  return layers.map((l) => {
    const info: BlobInfo = { digest: l.digest, size: l.size, mediaType: OCI_LAYER_TAR, compression: "none" };
    if (l.placeholder) info.placeholder = true;
    else info.uncompressedDigest = l.digest;
    return info;
  });
}
