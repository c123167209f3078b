// Read-write layers already made once: before a copy, each placeholder layer is fingerprinted and,
// when the per-user cache knows that fingerprint, announced with the DiffID it had
// (BlobInfo.expectedUncompressed), so that the engine can reuse a blob the destination holds
// instead of making and compressing the layer again. After a layer is made, its DiffID is
// remembered when its fingerprint was settled (see isSettled).
import { isDigest } from "../../src/digest.js";
import { isImgcopyError } from "../../src/errors.js";
import type { BlobInfo, Digest, SystemContext } from "../../src/types.js";
import type { ImageLayer } from "./image-manifest.js";
import { fingerprintLayer, isSettled, type FingerprintInput, type LayerFingerprint } from "./layer-fingerprint.js";
import { LayerDiffIdCache } from "./layer-diffid-cache.js";
import { TreeListing } from "./layers/tree-listing.js";
import { lowersOf } from "./store/layer-chain.js";
import type { StoreLocation } from "./store/record-types.js";

interface Fingerprinted {
  layerId: string;
  before: LayerFingerprint;
  /** What the fingerprint walk saw (vfs), until the layer's diff takes it. */
  listing?: TreeListing | undefined;
}

export class KnownLayers {
  constructor(
    private readonly cache: LayerDiffIdCache,
    /** Placeholder digest -> its layer's fingerprint before the copy. */
    private readonly fingerprints: Map<Digest, Fingerprinted>,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * What the fingerprint walk of placeholder `digest`'s layer saw, once: the vfs diff that makes the
   * layer uses it for the container's tree instead of listing and lstat'ing the tree again.
   */
  takeListing(digest: Digest): TreeListing | undefined {
    const known = this.fingerprints.get(digest);
    const listing = known?.listing;
    if (known) known.listing = undefined;
    return listing;
  }

  /**
   * The engine made placeholder `info` and computed `layer` from its bytes: remembered under the
   * fingerprint taken before the copy when that one is settled. No second walk is needed to see
   * whether the tree changed while it was read: a change after the walk began gives an inode a
   * ctime newer than every stamp the settled fingerprint holds, so that fingerprint can never be
   * taken again and its entry is never used. A wrong entry (the announced DiffID was not what the
   * bytes gave) is corrected here too.
   */
  async remember(info: BlobInfo, layer: { diffId: Digest; size: number }): Promise<void> {
    const known = this.fingerprints.get(info.digest);
    if (!known || !isSettled(known.before)) return;
    const expected = info.expectedUncompressed;
    if (expected && expected.digest === layer.diffId && expected.size === layer.size) return;
    if (expected) this.warn(`note: layer ${known.layerId}: the layer DiffID cache said ${expected.digest}, but the layer is ${layer.diffId}; corrected`);
    this.cache.record(known.before.key, layer);
    await this.cache.save();
  }
}

/**
 * Fingerprints each placeholder layer of `infos` (the copy's view of `layers`) and sets
 * `expectedUncompressed` on those the cache knows. A layer that cannot be fingerprinted is simply
 * made as before (its own errors, if any, come when it is read).
 */
export async function announceKnownLayers(
  infos: BlobInfo[],
  layers: ImageLayer[],
  location: StoreLocation,
  mtime: number | undefined,
  ctx: SystemContext,
): Promise<KnownLayers> {
  const warn = ctx.warn ?? ((): void => undefined);
  const cache = await LayerDiffIdCache.open(ctx.env ?? process.env, warn);
  const fingerprints = new Map<Digest, Fingerprinted>();
  for (const [i, info] of infos.entries()) {
    const layer = layers[i];
    if (!info.placeholder || !layer) continue;
    const input: FingerprintInput = {
      location,
      layer: layer.located.record,
      lowers: lowersOf(layers, i).map((l) => l.located.record),
      layerStoreRoot: layer.located.root,
      mtime,
      signal: ctx.signal,
    };
    // A lower without a recorded diff digest could still be changing: its contents are not in the fingerprint.
    if (input.lowers.some((l) => typeof l["diff-digest"] !== "string" || !isDigest(l["diff-digest"]))) continue;
    let before: LayerFingerprint;
    // vfs diffs the container's whole tree, the tree this walk lists: what it sees is kept for that diff.
    const listing = location.driver === "vfs" ? new TreeListing() : undefined;
    try {
      before = await fingerprintLayer(input, listing);
    } catch (err) {
      if (isImgcopyError(err) && err.code === "EABORT") throw err;
      continue; // e.g. the layer's directory is missing: making it will say so
    }
    const known = cache.get(before.key);
    // A layer is never announced as one of its own lowers: a cheap guard against an entry naming another layer.
    const announced = known !== undefined && !input.lowers.some((l) => l["diff-digest"] === known.diffId);
    if (announced) info.expectedUncompressed = { digest: known.diffId, size: known.size };
    // An announced layer is most likely reused, not made: its listing is not kept (if it is made after all, it walks again).
    fingerprints.set(info.digest, { layerId: layer.located.record.id, before, listing: announced ? undefined : listing });
  }
  return new KnownLayers(cache, fingerprints, warn);
}
