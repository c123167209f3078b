// Writes one image as a docker-archive (docker load format) into a new file, a pipe or a device.
// Into a file, every layer goes straight into the archive's temp file as it arrives (as
// containers/image does; one whose size is known only at its end gets its header filled in then);
// the config, and every blob bound for a pipe, wait in a temp folder. commit() writes the rest and
// renames the file into place (a pipe gets it all then).
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { MAGIC_LENGTH, compressionOfMagic } from "../../src/compression/detect-compression.js";
import { DigestingStream, digestHex, isDigest } from "../../src/digest.js";
import { CorruptInputError, DigestMismatchError, IOError, NotFoundError, UnsupportedError, UsageError, describeFsError } from "../../src/errors.js";
import { DOCKER_MANIFEST } from "../../src/manifest/media-types.js";
import type { BlobInfo, Digest, ImageDestination, LayerCompressionWish, PutBlobOptions, StreamDigest, SystemContext } from "../../src/types.js";
import { ArchiveOutput } from "./archive-output.js";
import { formatNamedTagged, parseNamedTagged, type NamedTagged } from "./docker-reference.js";
import { dockerSaveEntries, entriesAfterLayers, layerEntryName, layerEntryOrder, type StoredBlob } from "./docker-save-layout.js";
import type { DockerArchiveReference } from "./reference.js";
import { BLOCK } from "./tar-header.js";
import { encodeTarHeader, tarChunks, tarEntryChunks } from "./tar-writer.js";

interface Stored extends StoredBlob {
  info: BlobInfo;
}

/** Layers already in the archive file, in the order they were written. */
type Appended = Digest[];

interface RecordedManifest {
  config: { digest: Digest; size: number };
  layers: Array<{ digest: Digest; size: number }>;
}

export class DockerArchiveDestination implements ImageDestination {
  private readonly blobs = new Map<Digest, Stored>();
  private readonly appended: Appended = [];
  private torn = false;
  /** Appends to the archive one at a time, even if a caller does not honour hasThreadSafePutBlob. */
  private appending: Promise<unknown> = Promise.resolve();
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

  /** Layers appended to the archive as they arrive must come one at a time, in manifest order. */
  hasThreadSafePutBlob(): boolean {
    return !this.output.canAppend;
  }

  async tryReusingBlob(info: BlobInfo): Promise<BlobInfo | undefined> {
    return this.blobs.get(info.digest)?.info;
  }

  async putBlob(stream: Readable, info: BlobInfo, opts: PutBlobOptions): Promise<BlobInfo> {
    this.checkOpen("putBlob");
    if (!this.output.canAppend || opts.isConfig) return this.putOne(stream, info, opts);
    const turn = this.appending.then(() => this.putOne(stream, info, opts));
    this.appending = turn.catch(() => undefined);
    return turn;
  }

  private async putOne(stream: Readable, info: BlobInfo, opts: PutBlobOptions): Promise<BlobInfo> {
    const what = `${this.reference.toString()}: blob ${info.placeholder ? "(being computed)" : info.digest}`;
    const known = !info.placeholder && isDigest(info.digest);
    const sniffer = new HeadSniffer();
    let stored: Stored;
    if (known && !opts.isConfig && this.appended.includes(info.digest)) {
      // Already in the archive (a layer used twice that the engine sent again): read and drop.
      for await (const chunk of info.size >= 0 ? exactly(stream, info.size, what) : stream) sniffer.observe(chunk as Buffer);
      stored = this.blobs.get(info.digest) as Stored;
    } else if (known && info.size >= 0 && !opts.isConfig && this.output.canAppend) {
      // Straight into the archive: the engine proved digest and size, the tar entry checks the size again.
      const entry = { name: layerEntryName(info.digest), type: "file" as const, size: info.size, content: () => sniffer.watch(exactly(stream, info.size, what)) };
      await this.appendEntry(tarEntryChunks(entry));
      this.appended.push(info.digest);
      stored = { digest: info.digest, path: "", size: info.size, info: { digest: info.digest, size: info.size } };
    } else if (!opts.isConfig && this.output.canAppend) {
      // Size (and a placeholder's digest) known only at the end: straight into the archive all the same.
      stored = await this.appendUnsized(stream, sniffer, info, opts);
    } else {
      // The config, and every blob bound for a pipe: into the temp folder until commit.
      stored = await this.spool(stream, sniffer, info, opts, what);
    }
    const compression = opts.isConfig ? undefined : compressionOfMagic(sniffer.head);
    const result = stored.info;
    if (info.mediaType !== undefined) result.mediaType = info.mediaType;
    if (compression === "none" || compression === "gzip" || compression === "zstd") result.compression = compression;
    if (compression === "none") result.uncompressedDigest = result.digest;
    else if (info.uncompressedDigest !== undefined) result.uncompressedDigest = info.uncompressedDigest;
    this.blobs.set(stored.digest, stored);
    return result;
  }

  /** A failed entry leaves a torn archive: nothing more is written into it and commit refuses it. */
  private async appendEntry(chunks: AsyncIterable<Buffer>): Promise<void> {
    if (this.torn) throw new IOError(`${this.reference.toString()}: an earlier blob failed half-way into the archive`);
    try {
      await this.output.append(chunks);
    } catch (err) {
      this.torn = true;
      throw err;
    }
  }

  /**
   * A layer whose size is not known before it has flowed (a placeholder, or (de)compressed by the
   * engine): a blank header, the content and its padding go into the archive; the header is filled
   * in once size and digest are known. A layer that turns out to be in the archive already is cut
   * off again. A failure tears the archive (commit refuses it).
   */
  private async appendUnsized(stream: Readable, sniffer: HeadSniffer, info: BlobInfo, opts: PutBlobOptions): Promise<Stored> {
    const start = this.output.appendedBytes;
    const hash = info.placeholder && !opts.streamDigest ? createHash("sha256") : undefined;
    let size = 0;
    async function* entry(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(BLOCK);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        sniffer.observe(chunk);
        hash?.update(chunk);
        size += chunk.length;
        yield chunk;
      }
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad > 0) yield Buffer.alloc(pad);
    }
    await this.appendEntry(entry());
    const digest: Digest = !info.placeholder ? info.digest : hash ? `sha256:${hash.digest("hex")}` : (opts.streamDigest as StreamDigest).digest();
    try {
      if (this.appended.includes(digest)) {
        await this.output.cutBack(start);
        return this.blobs.get(digest) as Stored;
      }
      await this.output.patch(start, encodeTarHeader({ name: layerEntryName(digest), type: "file", size }));
    } catch (err) {
      this.torn = true;
      throw err;
    }
    this.appended.push(digest);
    return { digest, path: "", size, info: { digest, size } };
  }

  /** Into the temp folder: a digest the engine proved is not hashed again; a placeholder's is the engine's or hashed here. */
  private async spool(stream: Readable, sniffer: HeadSniffer, info: BlobInfo, opts: PutBlobOptions, what: string): Promise<Stored> {
    const incoming = join(this.output.blobDir, `incoming-${randomBytes(8).toString("hex")}`);
    const known = !info.placeholder && isDigest(info.digest);
    const hasher = known || opts.streamDigest ? undefined : new DigestingStream();
    try {
      const file = createWriteStream(incoming, { flags: "wx", mode: 0o600 });
      await (hasher ? pipeline(stream, sniffer, hasher, file) : pipeline(stream, sniffer, file));
      const digest = known ? info.digest : (hasher ?? (opts.streamDigest as StreamDigest)).digest();
      const size = file.bytesWritten;
      if (known && info.size >= 0 && info.size !== size) throw new DigestMismatchError(what, `size ${info.size}`, `size ${size}`);
      const path = join(this.output.blobDir, digestHex(digest));
      await rename(incoming, path);
      return { digest, path, size, info: { digest, size } };
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
    const image = { config: { ...config, bytes: configBytes }, layers, repoTags: this.repoTags };
    if (this.output.canAppend) {
      if (this.torn) throw new IOError(`${where}: an earlier blob failed half-way into the archive`);
      const order = layerEntryOrder(layers);
      if (order.join() !== this.appended.join()) {
        throw new UsageError(`${where}: the layers were written in another order than the manifest lists them (or not all of them)`);
      }
      await this.output.publish(tarChunks(entriesAfterLayers(image)));
    } else {
      await this.output.publish(tarChunks(dockerSaveEntries(image)));
    }
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
    this.observe(chunk);
    done(null, chunk);
  }

  /** `source`'s chunks, watched on their way (for a consumer that is not a stream). */
  async *watch(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      this.observe(chunk);
      yield chunk;
    }
  }

  observe(chunk: Buffer): void {
    if (this.head.length < MAGIC_LENGTH) this.head = Buffer.concat([this.head, chunk.subarray(0, MAGIC_LENGTH - this.head.length)]);
  }
}


/** `source`, which must be exactly `size` bytes (the count goes on past `size` to name the real size). */
async function* exactly(source: AsyncIterable<Buffer>, size: number, what: string): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source) {
    seen += chunk.length;
    if (seen <= size) yield chunk;
  }
  if (seen !== size) throw new DigestMismatchError(what, `size ${size}`, `size ${seen}`);
}
