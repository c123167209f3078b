// Test-only ends over real directories, so engine output can be checked with skopeo and umoci:
// a read-only OCI layout source and a `dir`-layout destination (blobs named by hex, manifest.json).
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import { DigestingStream, digestHex } from "../../src/digest.js";
import { NotFoundError } from "../../src/errors.js";
import type { BlobInfo, Digest, ImageDestination, ImageReference, ImageSource, ManifestBlob } from "../../src/types.js";
import { memoryTransport } from "./memory-transport.js";

export class OciLayoutReference implements ImageReference {
  readonly transport = memoryTransport;
  constructor(readonly path: string) {}
  toString(): string {
    return `oci:${this.path}`;
  }
  async newImageSource(): Promise<ImageSource> {
    const blob = (d: Digest): string => join(this.path, "blobs", "sha256", digestHex(d));
    const index = JSON.parse(await readFile(join(this.path, "index.json"), "utf8")) as { manifests: Array<{ digest: string; mediaType: string }> };
    const top = index.manifests[0];
    if (!top) throw new NotFoundError(`${this}: empty index.json`);
    return {
      reference: this,
      getManifest: async (instance?: Digest): Promise<ManifestBlob> => ({
        bytes: await readFile(blob(instance ?? top.digest)),
        mediaType: instance ? "" : top.mediaType,
      }),
      getBlob: async (info: BlobInfo) => ({ stream: createReadStream(blob(info.digest)), size: info.size }),
      close: async () => undefined,
    };
  }
  async newImageDestination(): Promise<ImageDestination> {
    throw new Error("read-only");
  }
}

export class DirLayoutReference implements ImageReference {
  readonly transport = memoryTransport;
  constructor(readonly path: string) {}
  toString(): string {
    return `dir:${this.path}`;
  }
  async newImageSource(): Promise<ImageSource> {
    throw new Error("write-only");
  }
  async newImageDestination(): Promise<ImageDestination> {
    const staging = `${this.path}.staging`;
    await mkdir(staging, { recursive: true });
    let committed = false;
    return {
      reference: this,
      supportedManifestTypes: () => [],
      desiredLayerCompression: () => "preserve",
      hasThreadSafePutBlob: () => true,
      tryReusingBlob: async () => undefined,
      putBlob: async (stream: Readable, info: BlobInfo) => {
        const hasher = new DigestingStream();
        const tmp = join(staging, `tmp-${Math.random().toString(16).slice(2)}`);
        await pipeline(stream, hasher, createWriteStream(tmp));
        await rename(tmp, join(staging, digestHex(hasher.digest())));
        return { ...info, digest: hasher.digest(), size: hasher.size, placeholder: false };
      },
      putManifest: async (bytes: Uint8Array, _type: string, instance?: Digest) => {
        await writeFile(join(staging, instance ? `${digestHex(instance)}.manifest.json` : "manifest.json"), bytes);
      },
      commit: async () => {
        await writeFile(join(staging, "version"), "Directory Transport Version: 1.1\n");
        await rename(staging, this.path);
        committed = true;
      },
      close: async () => {
        if (!committed) await rm(staging, { recursive: true, force: true });
      },
    };
  }
}
