// Reads an image from a docker-archive (docker save) tar: an index of the tar's entries, a Docker
// v2s2 manifest built from manifest.json and the config, and blobs served as byte ranges of the file.
// The manifest is the one containers/image synthesises (every layer typed diff.tar.gzip, as Docker
// does), so that digests equal skopeo's; layerInfosForCopy says what each layer really is.
import { Readable, addAbortSignal } from "node:stream";
import { sha256 } from "../../src/digest.js";
import { NotFoundError } from "../../src/errors.js";
import { DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST } from "../../src/manifest/media-types.js";
import type { BlobInfo, BlobStream, Digest, ImageSource, ManifestBlob, SystemContext } from "../../src/types.js";
import { openArchiveInput, readRange, type ArchiveInput } from "./archive-input.js";
import { loadArchiveImage, type ArchiveImage, type ArchiveLayer } from "./archive-image.js";
import type { DockerArchiveReference } from "./reference.js";
import { TarIndex } from "./tar-index.js";

export class DockerArchiveSource implements ImageSource {
  private readonly manifestBytes: Uint8Array;
  private readonly manifestDigest: Digest;
  private readonly layersByDigest = new Map<Digest, ArchiveLayer>();
  private closed = false;

  private constructor(
    readonly reference: DockerArchiveReference,
    private readonly input: ArchiveInput,
    private readonly index: TarIndex,
    private readonly image: ArchiveImage,
  ) {
    for (const layer of image.layers) this.layersByDigest.set(layer.digest, layer);
    const manifest = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: DOCKER_CONFIG, size: image.configBytes.length, digest: image.configDigest },
      layers: image.layers.map((l) => ({ mediaType: DOCKER_LAYER_GZIP, size: l.size, digest: l.digest })),
    };
    this.manifestBytes = Buffer.from(JSON.stringify(manifest));
    this.manifestDigest = sha256(this.manifestBytes);
  }

  /** Opens the archive (spooling a pipe to a temp file), indexes it and picks the image. */
  static async open(reference: DockerArchiveReference, ctx: SystemContext): Promise<DockerArchiveSource> {
    const input = await openArchiveInput(reference.path, reference.archiveLabel, ctx.env);
    try {
      const index = await TarIndex.scan(input.path, reference.archiveLabel);
      const image = await loadArchiveImage(index, { named: reference.named, index: reference.sourceIndex });
      return new DockerArchiveSource(reference, input, index, image);
    } catch (err) {
      await input.cleanup();
      throw err;
    }
  }

  /** The repository the reference named (skopeo inspect's "Name"). */
  get dockerName(): string | undefined {
    return this.reference.named?.name;
  }

  /** The RepoTags of the chosen image, as stored in manifest.json. */
  get repoTags(): readonly string[] {
    return this.image.repoTags;
  }

  async getManifest(instance?: Digest): Promise<ManifestBlob> {
    if (instance !== undefined && instance !== this.manifestDigest) {
      throw new NotFoundError(`${this.reference.toString()}: no manifest ${instance} (a docker-archive image has one manifest, ${this.manifestDigest})`);
    }
    return { bytes: this.manifestBytes, mediaType: DOCKER_MANIFEST };
  }

  /** The layers as they are in the archive: a plain tar is typed diff.tar (the manifest says diff.tar.gzip). */
  async layerInfosForCopy(instance?: Digest): Promise<BlobInfo[] | undefined> {
    if (instance !== undefined && instance !== this.manifestDigest) return undefined;
    return this.image.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, compression: l.compression }));
  }

  async getBlob(info: BlobInfo, signal?: AbortSignal): Promise<BlobStream> {
    let stream: Readable;
    let size: number;
    if (info.digest === this.image.configDigest) {
      stream = Readable.from([this.image.configBytes]);
      size = this.image.configBytes.length;
    } else {
      const layer = this.layersByDigest.get(info.digest);
      if (!layer) throw new NotFoundError(`${this.reference.toString()}: no blob ${info.digest} in this image`);
      size = layer.size;
      stream = size > 0 ? readRange(this.index.path, layer.entry.offset, size) : Readable.from([]);
    }
    return { stream: signal ? addAbortSignal(signal, stream) : stream, size };
  }

  async getSignatures(): Promise<Uint8Array[]> {
    return [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.input.cleanup();
  }
}
