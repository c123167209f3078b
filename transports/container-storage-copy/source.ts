// The container-copy image source: opening takes the store's read locks, reads the records,
// resolves the reference and plans the image (cheap: no layer content). Layers are streamed on
// demand by ./layers; the layers lock is held until close().
import { Readable } from "node:stream";
import { join } from "node:path";
import { sha256 } from "../../src/digest.js";
import { IOError, NotFoundError, isImgcopyError } from "../../src/errors.js";
import { describeLayerMediaType, layerMediaType } from "../../src/compression/layer-media-types.js";
import { OCI_MANIFEST } from "../../src/manifest/media-types.js";
import type { Descriptor } from "../../src/manifest/manifest-types.js";
import type { BlobInfo, BlobStream, Digest, ImageSource, ManifestBlob, SystemContext } from "../../src/types.js";
import { buildOciManifest, layerInfosForCopy } from "./image-manifest.js";
import { planImage, type ImagePlan } from "./image-plan.js";
import type { KnownLayers } from "./known-layers.js";
import type { StorageReference } from "./reference.js";
import { lowersOf } from "./store/layer-chain.js";
import { lockStoreForReading, type StoreReadLocks } from "./store/locks.js";
import type { StoreLocation } from "./store/record-types.js";
import { readStoreRecords } from "./store/records.js";
import { resolveTarget } from "./store/resolve.js";
import { describeStore, isDirectory, locateStore } from "./store/store-location.js";

export async function openStorageImageSource(ref: StorageReference, ctx: SystemContext): Promise<ImageSource> {
  const location = await locateStore(ref.store, ctx);
  const locks = await lockStoreForReading(location, ctx);
  try {
    const records = await readStoreRecords(location);
    let target;
    try {
      target = resolveTarget(records, ref.nameOrId, describeStore(location), ref.transport.name);
    } catch (err) {
      throw await withDriverHint(err, location);
    }
    const plan = await planImage(records, target, ctx);
    await locks.releaseRecordLocks();
    return new StorageImageSource(ref, location, plan, locks, ctx);
  } catch (err) {
    await locks.releaseAll();
    throw err;
  }
}

/** A name not found in one driver's records may be in another's: say so. */
async function withDriverHint(err: unknown, location: StoreLocation): Promise<unknown> {
  if (!isImgcopyError(err) || err.code !== "ENOTFOUND") return err;
  const others = [];
  for (const d of ["overlay", "vfs"]) {
    if (d !== location.driver && (await isDirectory(join(location.graphRoot, `${d}-layers`)))) others.push(d);
  }
  if (others.length === 0) return err;
  return new NotFoundError(`${err.message} (the store also has ${others.join(", ")} records: name the driver, e.g. [${others[0]}@${location.graphRoot}])`, {
    cause: err,
  });
}

export class StorageImageSource implements ImageSource {
  private readonly manifest: ManifestBlob;
  private readonly configDigest: Digest;
  private closed = false;
  /** Whether the manifest served has placeholder layers, and whether the user was told. */
  private placeholderNote: "none" | "pending" | "given" = "none";
  /** The engine asked for the layers to copy: the placeholders will be replaced by real digests. */
  private copying = false;
  /** The repository the reference named (skopeo inspect's "Name"). */
  readonly dockerName: string | undefined;
  /** The read-write layers' fingerprints, once the engine asked for the layers to copy. */
  private knownLayers: KnownLayers | undefined;

  constructor(
    readonly reference: StorageReference,
    private readonly location: StoreLocation,
    private readonly plan: ImagePlan,
    private readonly locks: StoreReadLocks,
    private readonly ctx: SystemContext,
  ) {
    this.configDigest = sha256(plan.configBytes);
    this.dockerName = plan.dockerName;
    this.manifest = plan.stored
      ? { bytes: plan.stored.bytes, mediaType: plan.stored.mediaType }
      : { bytes: buildOciManifest(plan.configBytes, plan.layers, plan.annotations), mediaType: OCI_MANIFEST };
  }

  async getManifest(instance?: Digest): Promise<ManifestBlob> {
    if (instance !== undefined) {
      throw new NotFoundError(`${this.reference.toString()}: has a single image, not a list; no instance ${instance}`);
    }
    if (this.placeholderNote === "none" && this.plan.layers.some((l) => l.placeholder)) this.placeholderNote = "pending";
    return this.manifest;
  }

  async layerInfosForCopy(instance?: Digest): Promise<BlobInfo[] | undefined> {
    if (instance !== undefined) {
      throw new NotFoundError(`${this.reference.toString()}: has a single image, not a list; no instance ${instance}`);
    }
    this.copying = true;
    if (this.plan.stored) return storedLayerInfos(this.plan.stored.layers);
    const infos = layerInfosForCopy(this.plan.layers);
    if (infos.some((i) => i.placeholder)) {
      const { announceKnownLayers } = await import("./known-layers.js");
      this.knownLayers = await announceKnownLayers(infos, this.plan.layers, this.location, this.plan.diffMtime, this.ctx);
    }
    return infos;
  }

  async placeholderCopied(info: BlobInfo, layer: { diffId: Digest; size: number }): Promise<void> {
    await this.knownLayers?.remember(info, layer);
  }

  async getBlob(info: BlobInfo, signal?: AbortSignal): Promise<BlobStream> {
    if (this.closed) throw new IOError(`${this.reference.toString()}: the image source is closed`);
    if (info.digest === this.configDigest) {
      this.notePlaceholders();
      return { stream: Readable.from([Buffer.from(this.plan.configBytes)]), size: this.plan.configBytes.length };
    }
    const index = this.plan.layers.findIndex((l) => l.digest === info.digest);
    const layer = this.plan.layers[index];
    if (!layer) throw new NotFoundError(`${this.reference.toString()}: blob ${info.digest} is not part of ${this.plan.what}`);
    this.copying = true;
    // Imported on first use, so that inspecting (manifest + config) never loads the layer code.
    const { produceLayer } = await import("./layers/layer-workers.js");
    const { stream, verifies, producedDigest } = await produceLayer({
      location: this.location,
      layer: layer.located.record,
      lowers: lowersOf(this.plan.layers, index).map((l) => l.located.record),
      layerStoreRoot: layer.located.root,
      warn: this.ctx.warn,
      signal,
      mtime: this.plan.diffMtime,
      treeListing: layer.placeholder ? this.knownLayers?.takeListing(info.digest) : undefined,
    });
    // A replay fails before its end unless it is the record's diff digest: when that is what was asked for, the engine need not hash it again.
    const digestVerified = verifies !== undefined && verifies.digest === info.digest && (info.size < 0 || verifies.size === info.size);
    return { stream, size: layer.placeholder ? -1 : layer.size, digestVerified, ...(producedDigest ? { producedDigest } : {}) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notePlaceholders();
    await this.locks.releaseAll();
  }

  /** Read without copying (inspect): the placeholders in what was shown are not real digests; say so once. */
  private notePlaceholders(): void {
    if (this.placeholderNote !== "pending" || this.copying) return;
    this.placeholderNote = "given";
    this.ctx.warn?.(
      `note: ${this.reference.toString()}: the container's read-write layer is not read by inspect; its digest and size in this output are placeholders (export the image to get real ones)`,
    );
  }
}

/**
 * A stored manifest's layers as the store serves them: uncompressed, their digest their DiffID,
 * typed as uncompressed even where the manifest says diff.tar.gzip (as containers/image does).
 */
function storedLayerInfos(layers: readonly Descriptor[]): BlobInfo[] {
  return layers.map((d) => {
    const known = describeLayerMediaType(d.mediaType);
    const mediaType = known ? layerMediaType(known.format, "none", known.distributable) : d.mediaType;
    const info: BlobInfo = { digest: d.digest, size: d.size, mediaType, compression: "none", uncompressedDigest: d.digest };
    if (d.urls) info.urls = [...d.urls];
    if (d.annotations) info.annotations = { ...d.annotations };
    return info;
  });
}
