// The container-copy image source: opening takes the store's read locks, reads the records,
// resolves the reference and plans the image (cheap: no layer content). Layers are streamed on
// demand by ./layers; the layers lock is held until close().
import { Readable } from "node:stream";
import { join } from "node:path";
import { sha256 } from "../../src/digest.js";
import { IOError, NotFoundError, isImgcopyError } from "../../src/errors.js";
import { OCI_MANIFEST } from "../../src/manifest/media-types.js";
import type { BlobInfo, BlobStream, Digest, ImageSource, ManifestBlob, SystemContext } from "../../src/types.js";
import { buildOciManifest, layerInfosForCopy } from "./image-manifest.js";
import { planImage, type ImagePlan } from "./image-plan.js";
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
      target = resolveTarget(records, ref.nameOrId, describeStore(location));
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
  private readonly manifest: Uint8Array;
  private readonly configDigest: Digest;
  private closed = false;

  constructor(
    readonly reference: StorageReference,
    private readonly location: StoreLocation,
    private readonly plan: ImagePlan,
    private readonly locks: StoreReadLocks,
    private readonly ctx: SystemContext,
  ) {
    this.configDigest = sha256(plan.configBytes);
    this.manifest = buildOciManifest(plan.configBytes, plan.layers, plan.annotations);
  }

  async getManifest(instance?: Digest): Promise<ManifestBlob> {
    if (instance !== undefined) {
      throw new NotFoundError(`${this.reference.toString()}: has a single image, not a list; no instance ${instance}`);
    }
    return { bytes: this.manifest, mediaType: OCI_MANIFEST };
  }

  async layerInfosForCopy(instance?: Digest): Promise<BlobInfo[] | undefined> {
    if (instance !== undefined) {
      throw new NotFoundError(`${this.reference.toString()}: has a single image, not a list; no instance ${instance}`);
    }
    return layerInfosForCopy(this.plan.layers);
  }

  async getBlob(info: BlobInfo, signal?: AbortSignal): Promise<BlobStream> {
    if (this.closed) throw new IOError(`${this.reference.toString()}: the image source is closed`);
    if (info.digest === this.configDigest) {
      return { stream: Readable.from([Buffer.from(this.plan.configBytes)]), size: this.plan.configBytes.length };
    }
    const index = this.plan.layers.findIndex((l) => l.digest === info.digest);
    const layer = this.plan.layers[index];
    if (!layer) throw new NotFoundError(`${this.reference.toString()}: blob ${info.digest} is not part of ${this.plan.what}`);
    // Imported on first use, so that inspecting (manifest + config) never loads the layer code.
    const { openLayerStream } = await import("./layers/index.js");
    const stream = await openLayerStream({
      location: this.location,
      layer: layer.located.record,
      lowers: lowersOf(this.plan.layers, index).map((l) => l.located.record),
      layerStoreRoot: layer.located.root,
      warn: this.ctx.warn,
      signal,
    });
    return { stream, size: layer.placeholder ? -1 : layer.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.locks.releaseAll();
  }
}
