// Reads an image back out of an OCI image layout, independently of the code under test: index.json,
// the manifest, the config, and the DiffID of each layer recomputed from its blob.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  created?: string;
  config: Record<string, unknown>;
  rootfs: { type: string; diff_ids: string[] };
  history?: Array<Record<string, unknown>>;
}

export interface OciImage {
  manifestDigest: string;
  manifestMediaType: string;
  manifest: { mediaType?: string; config: Descriptor; layers: Descriptor[]; annotations?: Record<string, string> };
  config: ImageConfig;
}

/** Path of a blob in the layout. */
export function blobPath(layout: string, digest: string): string {
  const [alg, hex] = digest.split(":");
  return join(layout, "blobs", alg ?? "sha256", hex ?? "");
}

/** The image that index.json names `ref` (or its only image when ref is undefined). */
export async function readOciImage(layout: string, ref?: string): Promise<OciImage> {
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as { manifests: Descriptor[] };
  const entries = ref === undefined ? index.manifests : index.manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] === ref);
  if (entries.length !== 1 || !entries[0]) throw new Error(`${layout}: expected one manifest named ${ref ?? "(any)"}, found ${entries.length}`);
  const entry = entries[0];
  const manifest = JSON.parse(await readFile(blobPath(layout, entry.digest), "utf8")) as OciImage["manifest"];
  const config = JSON.parse(await readFile(blobPath(layout, manifest.config.digest), "utf8")) as ImageConfig;
  return { manifestDigest: entry.digest, manifestMediaType: entry.mediaType, manifest, config };
}

/** sha256 of a layer blob's uncompressed bytes (gzip or plain tar), i.e. what its DiffID must be. */
export async function uncompressedDigest(path: string): Promise<string> {
  const head = Buffer.alloc(2);
  const fh = await open(path);
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const decoder: Transform = gzip ? createGunzip() : new PassThrough();
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), decoder, hash);
  return `sha256:${hash.digest("hex")}`;
}

/** The DiffIDs recomputed from the layout's layer blobs, in manifest order. */
export async function recomputedDiffIds(layout: string, image: OciImage): Promise<string[]> {
  const out: string[] = [];
  for (const layer of image.manifest.layers) out.push(await uncompressedDigest(blobPath(layout, layer.digest)));
  return out;
}
