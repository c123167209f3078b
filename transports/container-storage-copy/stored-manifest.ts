// An image's manifest as the store keeps it, served byte for byte when it describes exactly what
// the store can stream: so that the digest equals skopeo's and podman's. Which one: the manifest
// of the digest the reference named, else big data "manifest" (the one written last), as
// containers/image picks. A manifest naming compressed blobs cannot be honoured (the store only
// has the uncompressed content) and is not used; one that types uncompressed layers as
// diff.tar.gzip (what docker-archive sources and Docker write) is, since its digests are the DiffIDs.
import { describeLayerMediaType } from "../../src/compression/layer-media-types.js";
import { sha256 } from "../../src/digest.js";
import type { Descriptor } from "../../src/manifest/manifest-types.js";
import { parseManifest } from "../../src/manifest/parse-manifest.js";
import type { CommitOptions } from "../../src/types.js";
import type { ImageLayer } from "./image-manifest.js";
import { bigDataPath, readImageBigData } from "./store/big-data.js";
import type { ImageRecord, StorageDriver } from "./store/record-types.js";
import type { Located } from "./store/records.js";

export interface StoredManifest {
  bytes: Uint8Array;
  mediaType: string;
  /** Its layer descriptors, in order. */
  layers: Descriptor[];
}

/** True when the commit options change nothing of an image (so its own manifest still describes it). */
export function asksNoChange(commit: CommitOptions | undefined): boolean {
  if (!commit) return true;
  return (
    commit.author === undefined &&
    commit.timestamp === undefined &&
    commit.createdBy === undefined &&
    commit.message === undefined &&
    !commit.omitHistory &&
    !commit.changes?.length &&
    Object.keys(commit.annotations ?? {}).length === 0
  );
}

/**
 * The stored manifest of `image` when it names `configBytes` and, layer by layer, the
 * uncompressed content the store holds (`layers`); undefined otherwise.
 */
export async function usableStoredManifest(
  image: Located<ImageRecord>,
  driver: StorageDriver,
  configBytes: Uint8Array,
  layers: readonly ImageLayer[],
  warn: (m: string) => void,
  preferredKey = "manifest",
): Promise<StoredManifest | undefined> {
  const keys = [...new Set([preferredKey, "manifest", ...(image.record.digest ? [`manifest-${image.record.digest}`] : [])])];
  for (const key of keys) {
    const bytes = await readImageBigData(image, driver, key);
    if (!bytes) continue;
    const what = `manifest ${bigDataPath(image, driver, key)}`;
    if (key !== "manifest" && sha256(bytes) !== key.slice("manifest-".length)) {
      warn(`image ${image.record.id}: ${what} does not match its digest; describing the image from its records instead`);
      continue;
    }
    let parsed;
    try {
      parsed = parseManifest(bytes, undefined, what);
    } catch {
      // Schema 1, a list, or broken: the manifest built from the records serves instead.
      return undefined;
    }
    if (parsed.kind !== "manifest") return undefined;
    const m = parsed.manifest;
    if (m.config.digest !== sha256(configBytes) || m.config.size !== configBytes.length) return undefined;
    if (!servesAsDescribed(m.layers, layers)) return undefined;
    return { bytes, mediaType: parsed.mediaType, layers: m.layers };
  }
  return undefined;
}

/** Each descriptor names, by its DiffID (and size), a layer the store's record has. */
function servesAsDescribed(descriptors: readonly Descriptor[], layers: readonly ImageLayer[]): boolean {
  if (descriptors.length !== layers.length) return false;
  return descriptors.every((d, i) => {
    const layer = layers[i] as ImageLayer;
    if (layer.placeholder || d.digest !== layer.digest) return false;
    if (layer.size >= 0 && d.size !== layer.size) return false;
    // The digest is the DiffID, so the blob is the uncompressed tar whatever the type claims.
    return describeLayerMediaType(d.mediaType) !== undefined;
  });
}
