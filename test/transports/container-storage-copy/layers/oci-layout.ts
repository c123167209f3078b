// OCI layouts made by the real skopeo and unpacked by the real umoci: the independent way these
// tests get a store image's layers out, and apply a layer tar on top of a base image.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { run } from "../../../helpers/tools.js";
import type { BuildahStore } from "./buildah-store.js";

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

const blobPath = (layout: string, digest: string): string => join(layout, "blobs", "sha256", digest.slice("sha256:".length));

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

/** `skopeo copy` of a store image into `<layout>:<ref>`. */
export async function copyToLayout(store: BuildahStore, image: string, layout: string, ref: string): Promise<void> {
  await run("skopeo", ["copy", "--quiet", `containers-storage:${store.storeSpec}${image}`, `oci:${layout}:${ref}`]);
}

export async function manifestOf(layout: string, ref: string): Promise<Manifest> {
  const index = await readJson<{ manifests: Descriptor[] }>(join(layout, "index.json"));
  const d = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === ref);
  if (!d) throw new Error(`${layout}: no manifest named ${ref}`);
  return readJson<Manifest>(blobPath(layout, d.digest));
}

/** A layer blob of `<layout>:<ref>` (index from the end when negative), decompressed. */
export async function layerTar(layout: string, ref: string, index: number): Promise<Readable> {
  const m = await manifestOf(layout, ref);
  const d = m.layers.at(index);
  if (!d) throw new Error(`${layout}:${ref}: no layer ${index}`);
  const raw = createReadStream(blobPath(layout, d.digest));
  return d.mediaType.endsWith("+gzip") ? raw.pipe(createGunzip()) : raw;
}

async function writeBlob(layout: string, bytes: Buffer): Promise<Descriptor & { digest: string }> {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  await writeFile(blobPath(layout, digest), bytes);
  return { mediaType: "", digest, size: bytes.length };
}

/**
 * Adds `tarPath` (an uncompressed layer) on top of `<layout>:<baseRef>` as `<layout>:<newRef>`,
 * then unpacks that with umoci; returns the rootfs directory.
 */
export async function unpackWithLayer(layout: string, baseRef: string, tarPath: string, newRef: string, bundle: string): Promise<string> {
  const base = await manifestOf(layout, baseRef);
  const hash = createHash("sha256");
  await pipeline(createReadStream(tarPath), hash);
  const layerDigest = `sha256:${hash.digest("hex")}`;
  await mkdir(join(layout, "blobs", "sha256"), { recursive: true });
  await copyFile(tarPath, blobPath(layout, layerDigest));
  const layerSize = (await stat(tarPath)).size;

  const config = await readJson<{ rootfs: { diff_ids: string[] }; history?: unknown[] }>(blobPath(layout, base.config.digest));
  config.rootfs.diff_ids.push(layerDigest);
  config.history?.push({ created_by: "imgcopy layer-stream test" });
  const configDesc = await writeBlob(layout, Buffer.from(JSON.stringify(config)));
  const manifest: Manifest = {
    ...base,
    config: { ...base.config, digest: configDesc.digest, size: configDesc.size },
    layers: [...base.layers, { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: layerSize }],
  };
  const manifestDesc = await writeBlob(layout, Buffer.from(JSON.stringify(manifest)));
  const indexPath = join(layout, "index.json");
  const index = await readJson<{ manifests: Descriptor[] }>(indexPath);
  index.manifests.push({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: manifestDesc.digest,
    size: manifestDesc.size,
    annotations: { "org.opencontainers.image.ref.name": newRef },
  });
  await writeFile(indexPath, JSON.stringify(index));
  await run("umoci", ["unpack", "--image", `${layout}:${newRef}`, bundle]);
  return join(bundle, "rootfs");
}
