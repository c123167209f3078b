// Writes one image as a docker-archive (docker load format) into a new file, a pipe or a device.
// Blobs wait in a temp folder, hashed as they arrive; commit() writes the tar in one go (atomically for a file).
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { MAGIC_LENGTH, compressionOfMagic } from "../../src/compression/detect-compression.js";
import { DigestingStream, digestHex, isDigest } from "../../src/digest.js";
import { CorruptInputError, DigestMismatchError, NotFoundError, UnsupportedError, UsageError, describeFsError } from "../../src/errors.js";
import { DOCKER_MANIFEST } from "../../src/manifest/media-types.js";
import type { BlobInfo, Digest, ImageDestination, LayerCompressionWish, PutBlobOptions, SystemContext } from "../../src/types.js";
import { ArchiveOutput } from "./archive-output.js";
import { formatNamedTagged, parseNamedTagged, type NamedTagged } from "./docker-reference.js";
import { dockerSaveEntries, type StoredBlob } from "./docker-save-layout.js";
import type { DockerArchiveReference } from "./reference.js";
import { tarChunks } from "./tar-writer.js";

interface Stored extends StoredBlob {
  info: BlobInfo;
}

interface RecordedManifest {
  config: { digest: Digest; size: number };
  layers: Array<{ digest: Digest; size: number }>;
}

export class DockerArchiveDestination implements ImageDestination {
  private readonly blobs = new Map<Digest, Stored>();
  private manifest: RecordedManifest | undefined;
  private state: "open" | "committed" | "closed" = "open";

  private constructor(
    readonly reference: DockerArchiveReference,
    private readonly output: ArchiveOutput,
    private readonly repoTags: NamedTagged[],
  ) {}

  static async open(reference: DockerArchiveReference, ctx: SystemContext): Promise<DockerArchiveDestination> {
    const tags: NamedTagged[] = reference.named ? [reference.named] : [];
    for (const text of ctx.additionalTags ?? []) {
      const tag = parseNamedTagged(text, "additional tag");
      if (!tags.some((t) => formatNamedTagged(t) === formatNamedTagged(tag))) tags.push(tag);
    }
    const output = await ArchiveOutput.open(reference.path, reference.archiveLabel, ctx.env);
    return new DockerArchiveDestination(reference, output, tags);
  }

  supportedManifestTypes(): readonly string[] {
    return [DOCKER_MANIFEST];
  }

  desiredLayerCompression(): LayerCompressionWish {
    return "decompress";
  }

  hasThreadSafePutBlob(): boolean {
    return true;
  }

  async tryReusingBlob(info: BlobInfo): Promise<BlobInfo | undefined> {
    return this.blobs.get(info.digest)?.info;
  }

  async putBlob(stream: Readable, info: BlobInfo, opts: PutBlobOptions): Promise<BlobInfo> {
    this.checkOpen("putBlob");
    const incoming = join(this.output.blobDir, `incoming-${randomBytes(8).toString("hex")}`);
    const hasher = new DigestingStream();
    const sniffer = new HeadSniffer();
    const what = `${this.reference.toString()}: blob ${info.placeholder ? "(being computed)" : info.digest}`;
    try {
      await pipeline(stream, sniffer, hasher, createWriteStream(incoming, { flags: "wx", mode: 0o600 }));
      const digest = hasher.digest();
      const size = hasher.size;
      if (!info.placeholder && isDigest(info.digest)) {
        if (info.digest !== digest) throw new DigestMismatchError(what, info.digest, digest);
        if (info.size >= 0 && info.size !== size) throw new DigestMismatchError(what, `size ${info.size}`, `size ${size}`);
      }
      const path = join(this.output.blobDir, digestHex(digest));
      await rename(incoming, path);
      const compression = opts.isConfig ? undefined : compressionOfMagic(sniffer.head);
      const stored: BlobInfo = { digest, size };
      if (info.mediaType !== undefined) stored.mediaType = info.mediaType;
      if (compression === "none" || compression === "gzip" || compression === "zstd") stored.compression = compression;
      if (compression === "none") stored.uncompressedDigest = digest;
      else if (info.uncompressedDigest !== undefined) stored.uncompressedDigest = info.uncompressedDigest;
      this.blobs.set(digest, { digest, path, size, info: stored });
      return stored;
    } catch (err) {
      await rm(incoming, { force: true });
      throw describeFsError(err, what);
    }
  }

  async putManifest(bytes: Uint8Array, mediaType: string, instance?: Digest): Promise<void> {
    this.checkOpen("putManifest");
    const where = this.reference.toString();
    if (instance !== undefined) throw new UnsupportedError(`${where}: a docker-archive holds one image, not a manifest list`);
    if (mediaType !== DOCKER_MANIFEST) {
      throw new UnsupportedError(`${where}: a docker-archive stores Docker v2s2 images only, not ${mediaType}`);
    }
    this.manifest = parseDockerManifest(bytes, where);
  }

  async commit(): Promise<void> {
    this.checkOpen("commit");
    const where = this.reference.toString();
    if (!this.manifest) throw new UsageError(`${where}: commit called before putManifest`);
    const config = this.storedFor(this.manifest.config, "config");
    const layers = this.manifest.layers.map((l) => this.storedFor(l, "layer"));
    let configBytes: Buffer;
    try {
      configBytes = await readFile(config.path);
    } catch (err) {
      throw describeFsError(err, `${where}: config ${config.digest}`);
    }
    const entries = dockerSaveEntries({ config: { ...config, bytes: configBytes }, layers, repoTags: this.repoTags });
    await this.output.publish(tarChunks(entries));
    this.state = "committed";
    await this.output.discard();
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    await this.output.discard();
  }

  private storedFor(desc: { digest: Digest; size: number }, what: string): Stored {
    const stored = this.blobs.get(desc.digest);
    if (!stored) throw new NotFoundError(`${this.reference.toString()}: the manifest's ${what} ${desc.digest} was never written`);
    if (desc.size >= 0 && desc.size !== stored.size) {
      throw new DigestMismatchError(`${this.reference.toString()}: ${what} ${desc.digest}`, `size ${desc.size}`, `size ${stored.size}`);
    }
    return stored;
  }

  private checkOpen(op: string): void {
    if (this.state !== "open") throw new UsageError(`${this.reference.toString()}: ${op} after ${this.state === "committed" ? "commit" : "close"}`);
  }
}

function parseDockerManifest(bytes: Uint8Array, where: string): RecordedManifest {
  const bad = (why: string): CorruptInputError => new CorruptInputError(`${where}: manifest ${why}`);
  let m: { config?: { digest?: unknown; size?: unknown }; layers?: unknown };
  try {
    m = JSON.parse(Buffer.from(bytes).toString("utf8")) as typeof m;
  } catch (err) {
    throw new CorruptInputError(`${where}: manifest is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const descriptor = (d: unknown, what: string): { digest: Digest; size: number } => {
    const o = d as { digest?: unknown; size?: unknown } | null;
    if (typeof o !== "object" || o === null || typeof o.digest !== "string" || !isDigest(o.digest)) throw bad(`${what} has no sha256 digest`);
    return { digest: o.digest, size: typeof o.size === "number" ? o.size : -1 };
  };
  if (!Array.isArray(m?.layers)) throw bad("has no layers list");
  return { config: descriptor(m.config, "config"), layers: m.layers.map((l, i) => descriptor(l, `layer ${i}`)) };
}

/** Keeps the first bytes that flow through, to tell a compressed layer from a plain tar. */
class HeadSniffer extends Transform {
  head = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.head.length < MAGIC_LENGTH) this.head = Buffer.concat([this.head, chunk.subarray(0, MAGIC_LENGTH - this.head.length)]);
    done(null, chunk);
  }
}
