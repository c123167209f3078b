// A small in-memory transport for engine tests: a source serving blobs/manifests from maps, and a
// destination that stages what it is given, verifies it, and publishes it only on commit.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DigestingStream, sha256 } from "../../src/digest.js";
import { DigestMismatchError, NotFoundError, UnsupportedError } from "../../src/errors.js";
import type {
  BlobInfo,
  BlobStream,
  Digest,
  ImageDestination,
  ImageReference,
  ImageSource,
  ImageTransport,
  LayerCompressionWish,
  ManifestBlob,
  PutBlobOptions,
} from "../../src/types.js";

/** What an in-memory image location holds. */
export class MemoryImage {
  blobs = new Map<Digest, Buffer>();
  /** "" = the top-level manifest; else an instance digest. */
  manifests = new Map<string, ManifestBlob>();
  signatures = new Map<string, Uint8Array[]>();
}

export interface SourceBehaviour {
  /** Bytes to serve instead of the stored blob (a corrupt source). */
  tamper?: (info: BlobInfo, bytes: Buffer) => Buffer;
  layerInfosForCopy?: (instance?: Digest) => BlobInfo[] | undefined;
  /** Serve blobs in chunks of this many bytes (default 64 KiB). */
  chunkSize?: number;
  /** Size getBlob reports (default: the real one). */
  reportedSize?: (info: BlobInfo) => number;
}

export interface DestinationBehaviour {
  supportedManifestTypes?: string[];
  desiredLayerCompression?: LayerCompressionWish;
  threadSafe?: boolean;
  noSignatures?: boolean;
  /** Called with each putBlob, before reading (may delay, or throw). */
  beforePutBlob?: (info: BlobInfo) => Promise<void> | void;
}

export interface DestinationLog {
  putBlobs: Array<{ info: BlobInfo; isConfig: boolean }>;
  reuseQueries: BlobInfo[];
  manifests: Array<{ bytes: Uint8Array; mediaType: string; instance?: Digest }>;
  signatures: Array<{ signatures: Uint8Array[]; instance?: Digest }>;
  committed: boolean;
  closed: number;
  maxConcurrentPutBlob: number;
}

export const memoryTransport: ImageTransport = {
  name: "mem",
  parseReference(): ImageReference {
    throw new UnsupportedError("mem: references are made by tests only");
  },
};

export class MemoryReference implements ImageReference {
  readonly transport = memoryTransport;
  readonly log: DestinationLog = {
    putBlobs: [],
    reuseQueries: [],
    manifests: [],
    signatures: [],
    committed: false,
    closed: 0,
    maxConcurrentPutBlob: 0,
  };
  sourceClosed = 0;

  constructor(
    readonly name: string,
    readonly image: MemoryImage = new MemoryImage(),
    readonly source: SourceBehaviour = {},
    readonly dest: DestinationBehaviour = {},
  ) {}

  toString(): string {
    return `mem:${this.name}`;
  }

  async newImageSource(): Promise<ImageSource> {
    return new MemorySource(this);
  }

  async newImageDestination(): Promise<ImageDestination> {
    return new MemoryDestination(this);
  }
}

class MemorySource implements ImageSource {
  constructor(readonly reference: MemoryReference) {}

  async getManifest(instance?: Digest): Promise<ManifestBlob> {
    const m = this.reference.image.manifests.get(instance ?? "");
    if (!m) throw new NotFoundError(`${this.reference}: no manifest ${instance ?? ""}`);
    return m;
  }

  async getBlob(info: BlobInfo): Promise<BlobStream> {
    const stored = this.reference.image.blobs.get(info.digest);
    if (!stored) throw new NotFoundError(`${this.reference}: no blob ${info.digest}`);
    const bytes = this.reference.source.tamper?.(info, stored) ?? stored;
    const step = this.reference.source.chunkSize ?? 64 * 1024;
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += step) chunks.push(bytes.subarray(i, i + step));
    return { stream: Readable.from(chunks), size: this.reference.source.reportedSize?.(info) ?? bytes.length };
  }

  async getSignatures(instance?: Digest): Promise<Uint8Array[]> {
    return this.reference.image.signatures.get(instance ?? "") ?? [];
  }

  async layerInfosForCopy(instance?: Digest): Promise<BlobInfo[] | undefined> {
    return this.reference.source.layerInfosForCopy?.(instance);
  }

  async close(): Promise<void> {
    this.reference.sourceClosed++;
  }
}

class MemoryDestination implements ImageDestination {
  private readonly staged = new MemoryImage();
  private active = 0;
  readonly putSignatures?: (signatures: Uint8Array[], instance?: Digest) => Promise<void>;

  constructor(readonly reference: MemoryReference) {
    if (!reference.dest.noSignatures) {
      this.putSignatures = async (signatures, instance) => {
        this.reference.log.signatures.push({ signatures, instance });
        this.staged.signatures.set(instance ?? "", signatures);
      };
    }
  }

  supportedManifestTypes(): readonly string[] {
    return this.reference.dest.supportedManifestTypes ?? [];
  }

  desiredLayerCompression(): LayerCompressionWish {
    return this.reference.dest.desiredLayerCompression ?? "preserve";
  }

  hasThreadSafePutBlob(): boolean {
    return this.reference.dest.threadSafe ?? true;
  }

  async tryReusingBlob(info: BlobInfo): Promise<BlobInfo | undefined> {
    this.reference.log.reuseQueries.push(info);
    const existing = this.reference.image.blobs.get(info.digest) ?? this.staged.blobs.get(info.digest);
    return existing ? { ...info, size: existing.length } : undefined;
  }

  async putBlob(stream: Readable, info: BlobInfo, opts: PutBlobOptions): Promise<BlobInfo> {
    const log = this.reference.log;
    log.putBlobs.push({ info: { ...info }, isConfig: opts.isConfig });
    this.active++;
    log.maxConcurrentPutBlob = Math.max(log.maxConcurrentPutBlob, this.active);
    try {
      await this.reference.dest.beforePutBlob?.(info);
      const hasher = new DigestingStream();
      const chunks: Buffer[] = [];
      await pipeline(stream, hasher, async (s: AsyncIterable<Buffer>) => {
        for await (const c of s) chunks.push(c);
      });
      const digest = hasher.digest();
      if (!info.placeholder && digest !== info.digest) throw new DigestMismatchError(`${this.reference}: blob`, info.digest, digest);
      this.staged.blobs.set(digest, Buffer.concat(chunks));
      return { ...info, digest, size: hasher.size, placeholder: false };
    } finally {
      this.active--;
    }
  }

  async putManifest(bytes: Uint8Array, mediaType: string, instance?: Digest): Promise<void> {
    this.reference.log.manifests.push({ bytes, mediaType, instance });
    this.staged.manifests.set(instance ?? "", { bytes, mediaType });
    if (instance && sha256(bytes) !== instance) throw new Error(`putManifest: instance ${instance} is not the digest of the bytes`);
  }

  async commit(): Promise<void> {
    const target = this.reference.image;
    for (const [k, v] of this.staged.blobs) target.blobs.set(k, v);
    for (const [k, v] of this.staged.manifests) target.manifests.set(k, v);
    for (const [k, v] of this.staged.signatures) target.signatures.set(k, v);
    this.reference.log.committed = true;
  }

  async close(): Promise<void> {
    this.reference.log.closed++;
  }
}
