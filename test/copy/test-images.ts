// Building small images (real tars, real gzip/zstd) into a MemoryImage for engine tests.
import { gzipSync } from "node:zlib";
import tarStream from "tar-stream";
import { compress as zstdCompress } from "zstd-napi";
import { sha256 } from "../../src/digest.js";
import { buildImageManifest, encodeManifest } from "../../src/manifest/build-manifest.js";
import { convertIndex } from "../../src/manifest/convert-manifest.js";
import type { Descriptor, ImageIndex, ImageManifest, ManifestFormat, Platform } from "../../src/manifest/manifest-types.js";
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_LAYER_ZSTD, DOCKER_LIST } from "../../src/manifest/media-types.js";
import type { Digest } from "../../src/types.js";
import type { MemoryImage } from "./memory-transport.js";

/** A tar holding `files` (name -> content). */
export async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export type Compression = "none" | "gzip" | "zstd";

export function compressBytes(bytes: Buffer, compression: Compression): Buffer {
  if (compression === "gzip") return gzipSync(bytes);
  if (compression === "zstd") return zstdCompress(bytes);
  return bytes;
}

const OCI_TYPE: Record<Compression, string> = { none: OCI_LAYER_TAR, gzip: OCI_LAYER_GZIP, zstd: OCI_LAYER_ZSTD };

export interface BuiltImage {
  manifest: ImageManifest;
  bytes: Uint8Array;
  mediaType: string;
  digest: Digest;
  diffIds: Digest[];
  layerBlobs: Buffer[];
  config: Record<string, unknown>;
}

export interface ImageSpec {
  format?: ManifestFormat;
  layers: Array<{ tar: Buffer; compression: Compression }>;
  architecture?: string;
  /** Store the manifest as the top-level one (default true). */
  top?: boolean;
  annotations?: Record<string, string>;
  /** Config diff_ids to write instead of the real ones. */
  diffIds?: Digest[];
}

/** Stores an image's blobs and manifest in `image`. */
export function addImage(image: MemoryImage, spec: ImageSpec): BuiltImage {
  const diffIds = spec.layers.map((l) => sha256(l.tar));
  const layerBlobs = spec.layers.map((l) => compressBytes(l.tar, l.compression));
  const config = {
    created: "2024-01-02T03:04:05.123400Z",
    architecture: spec.architecture ?? "amd64",
    os: "linux",
    config: { Env: ["PATH=/usr/bin"], Labels: { b: "2", a: "1" } },
    rootfs: { type: "layers", diff_ids: spec.diffIds ?? diffIds },
    history: spec.layers.map(() => ({ created_by: "test" })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  image.blobs.set(sha256(configBytes), configBytes);
  const layers: Descriptor[] = layerBlobs.map((blob, i) => {
    image.blobs.set(sha256(blob), blob);
    return { mediaType: OCI_TYPE[spec.layers[i]!.compression], digest: sha256(blob), size: blob.length };
  });
  const format = spec.format ?? "oci";
  const manifest = buildImageManifest(format, { mediaType: OCI_CONFIG, digest: sha256(configBytes), size: configBytes.length }, layers, spec.annotations);
  const encoded = encodeManifest(manifest, manifest.mediaType as string);
  if (spec.top ?? true) image.manifests.set("", { bytes: encoded.bytes, mediaType: encoded.mediaType });
  return { manifest, ...encoded, diffIds, layerBlobs, config };
}

/** Stores an index/list of `images` (one per platform) as the top-level manifest. */
export function addIndex(image: MemoryImage, images: Array<{ built: BuiltImage; platform: Platform }>, format: ManifestFormat = "oci"): { bytes: Uint8Array; digest: Digest; index: ImageIndex } {
  const oci: ImageIndex = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: images.map(({ built, platform }) => {
      image.manifests.set(built.digest, { bytes: built.bytes, mediaType: built.mediaType });
      return { mediaType: built.mediaType, digest: built.digest, size: built.bytes.length, platform };
    }),
  };
  const index = format === "oci" ? oci : convertIndex(oci, "docker", "test index");
  const encoded = encodeManifest(index, format === "oci" ? OCI_INDEX : DOCKER_LIST);
  image.manifests.set("", { bytes: encoded.bytes, mediaType: encoded.mediaType });
  return { bytes: encoded.bytes, digest: encoded.digest, index };
}

export function parseJson(bytes: Uint8Array): Record<string, unknown> {
  return JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
}
