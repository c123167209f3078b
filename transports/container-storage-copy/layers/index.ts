// The uncompressed tar stream of one layer of a containers/storage store: a replay of its
// tar-split when it has one (every image layer), else a diff of its files (a container's
// read-write layer: vfs against the parent's tree, overlay from its diff/ directory).
import { Readable } from "node:stream";
import { AbortedError, CorruptInputError, describeFsError, isImgcopyError, UnsupportedError } from "../../../src/errors.js";
import type { LayerRecord, StoreLocation } from "../store/record-types.js";
import { FsEntryArchiver } from "./fs-entry-archiver.js";
import { layerHash } from "./hash-thread.js";
import { IdMapper, OVERFLOW_ID } from "./id-mapping.js";
import { LayerDirectory } from "./layer-file-opener.js";
import { candidateRoots, findLayerDir, layerDirUnder, pathExists, requireLayerDir, tarSplitPath } from "./layer-paths.js";
import { overlayLayerTar } from "./overlay-layer-diff.js";
import { endOfArchive } from "./tar-header.js";
import { yieldToEventLoop } from "./file-content.js";
import { replayTarSplit } from "./tar-split-replay.js";
import type { TreeListing } from "./tree-listing.js";
import { vfsLayerTar } from "./vfs-layer-diff.js";
import { XattrReader } from "./xattr-reader.js";

export interface LayerStreamInput {
  location: StoreLocation;
  layer: LayerRecord;
  /** Its ancestors, nearest first (overlay lowers / vfs parent = lowers[0]). */
  lowers: LayerRecord[];
  /** Graph root (or additional image store root) holding this layer. */
  layerStoreRoot: string;
  warn?: (msg: string) => void;
  signal?: AbortSignal;
  /** Whole seconds to write as every entry's mtime when the layer is diffed (buildah commit --timestamp); replays keep theirs. */
  mtime?: number | undefined;
  /** What a walk of the layer's own tree (the fingerprint's) saw just before; a vfs diff uses it instead of walking that tree again. */
  treeListing?: TreeListing | undefined;
}

function checkInput(input: LayerStreamInput): void {
  const { layer, lowers } = input;
  if (input.signal?.aborted) throw new AbortedError(`layer ${layer.id}: aborted`);
  const driver: string = input.location.driver;
  if (driver !== "vfs" && driver !== "overlay") throw new UnsupportedError(`layer ${layer.id}: storage driver ${JSON.stringify(driver)} is not supported (only vfs and overlay)`);
  if (layer.flags?.incomplete === true) throw new CorruptInputError(`layer ${layer.id}: the layer is incomplete (an interrupted pull or commit)`);
  if ((layer.parent ?? undefined) !== (lowers[0]?.id ?? undefined)) {
    throw new CorruptInputError(`layer ${layer.id}: its parent is ${layer.parent ?? "(none)"} but the first lower given is ${lowers[0]?.id ?? "(none)"}`);
  }
}

/** Lower layers' directories, found on first use and then remembered. */
function lowerDirsOf(input: LayerStreamInput): () => Promise<string[]> {
  let found: Promise<string[]> | undefined;
  const roots = candidateRoots(input.location, input.layerStoreRoot);
  return () => {
    found ??= Promise.all(input.lowers.map((l) => findLayerDir(roots, input.location.driver, l.id)));
    return found;
  };
}

function replay(input: LayerStreamInput, tarSplit: string, layerDir: string): AsyncGenerator<Buffer> {
  const { layer } = input;
  const lowerDirs = lowerDirsOf(input);
  return replayTarSplit({
    layerId: layer.id,
    tarSplitPath: tarSplit,
    diffDigest: layer["diff-digest"],
    diffSize: layer["diff-size"],
    signal: input.signal,
    ownDir: new LayerDirectory(layerDir),
    // a vfs tree is complete; an overlay layer's unchanged files are in its lowers
    ...(input.location.driver === "overlay" ? { lowerDirs: async () => (await lowerDirs()).map((d) => new LayerDirectory(d)) } : {}),
  });
}

/** Finds the directories and loads the xattr addon first, so that a missing parent fails the open. */
async function diff(input: LayerStreamInput, layerDir: string, warn: (msg: string) => void): Promise<AsyncGenerator<Buffer>> {
  const { layer, lowers, location } = input;
  const what = `layer ${layer.id}`;
  const mapper = new IdMapper(layer.uidmap, layer.gidmap);
  const roots = candidateRoots(location, input.layerStoreRoot);
  const lowerDirs = location.driver === "vfs"
    ? await Promise.all(lowers.slice(0, 1).map((l) => findLayerDir(roots, "vfs", l.id)))
    : await lowerDirsOf(input)();
  const xattrs = await XattrReader.open(warn, what);
  if (location.driver === "overlay" && !xattrs.available && lowerDirs.length > 0) {
    warn(`${what}: without xattrs, directories deleted and re-created in this layer are not marked opaque`);
  }
  const archiver = new FsEntryArchiver({ layerId: layer.id, mapper, xattrs, warn, signal: input.signal, mtime: input.mtime });
  const parent = lowers[0];
  const entries = location.driver === "vfs"
    ? vfsLayerTar({ archiver, layerDir, parentDir: lowerDirs[0], parentMapper: new IdMapper(parent?.uidmap, parent?.gidmap), listing: input.treeListing })
    : overlayLayerTar({ archiver, diffDir: layerDir, lowerDiffs: lowerDirs });
  return (async function* () {
    yield* entries;
    yield endOfArchive();
    if (mapper.unmappedCount > 0) {
      warn(`${what}: ${mapper.unmappedCount} owner ids are outside the layer's uidmap/gidmap; written as ${OVERFLOW_ID}, as the kernel shows them in the container`);
    }
  })();
}

/**
 * Bytes of a layer between two turns of the event loop. Making a layer is synchronous between
 * batches, and a consumer that takes each batch at once (the engine's stages) never waits for I/O:
 * without a turn now and then, the destination's finished writes would only be seen once its queue
 * is full, and every layer would keep its whole queue of batches alive (and the GC would promote them).
 */
const TURN_BYTES = 256 * 1024;

/** Turns anything thrown into one-line errors naming the layer and the path. */
async function* guarded(source: AsyncGenerator<Buffer>, input: LayerStreamInput, layerDir: string): AsyncGenerator<Buffer> {
  try {
    let sinceTurn = 0;
    for await (const chunk of source) {
      yield chunk;
      sinceTurn += chunk.length;
      if (sinceTurn >= TURN_BYTES) {
        sinceTurn = 0;
        await yieldToEventLoop();
      }
    }
  } catch (err) {
    if (isImgcopyError(err)) throw err;
    if (input.signal?.aborted) throw new AbortedError(`layer ${input.layer.id}: aborted`, { cause: err });
    const path = (err as NodeJS.ErrnoException).path;
    throw describeFsError(err, `layer ${input.layer.id}: ${path !== undefined ? String(path) : layerDir}`);
  }
}

/** The layer's uncompressed tar, as a byte stream that reads the disk only as fast as it is consumed. */
export async function openLayerStream(input: LayerStreamInput): Promise<Readable> {
  return (await openLayer(input)).stream;
}

/** What a layer's stream checks itself before its end leaves (a tar-split replay: the record's diff digest and size). */
export interface SelfCheck {
  digest: string;
  /** -1: the size is not checked. */
  size: number;
}

/** openLayerStream, and what the stream itself verifies (undefined: nothing) or, for a diff, the digest it hashed. */
export async function openLayer(input: LayerStreamInput): Promise<{
  stream: Readable;
  verifies: SelfCheck | undefined;
  producedDigest?: () => { digest: string; size: number } | undefined;
}> {
  const opened = await openLayerChunks(input);
  const { verifies } = opened;
  // A replay hashes itself (its digest is checked); a diff is hashed here, so the engine need not.
  let produced: { digest: string; size: number } | undefined;
  const chunks = verifies ? opened.chunks : hashedChunks(opened.chunks, (d) => (produced = d));
  const stream = Readable.from(chunks, { objectMode: false });
  const signal = input.signal;
  if (signal) {
    const onAbort = (): void => {
      stream.destroy(new AbortedError(`layer ${input.layer.id}: aborted`, { cause: signal.reason }));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    stream.once("close", () => signal.removeEventListener("abort", onAbort));
  }
  return verifies ? { stream, verifies } : { stream, verifies, producedDigest: () => produced };
}

/** Passes the chunks on and hashes them (on the hashing thread when there is one); `done` gets the digest before the end. */
async function* hashedChunks(chunks: AsyncGenerator<Buffer>, done: (d: { digest: string; size: number }) => void): AsyncGenerator<Buffer> {
  const hash = layerHash();
  let size = 0;
  let complete = false;
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
    complete = true;
  } finally {
    if (!complete) hash.discard();
  }
  done({ digest: await hash.digest(), size });
}

/**
 * The layer's tar as chunks (fresh buffers, errors already one line naming the layer), and what
 * they verify themselves; the open fails here when the layer's directories are missing.
 */
export async function openLayerChunks(input: LayerStreamInput): Promise<{ chunks: AsyncGenerator<Buffer>; verifies: SelfCheck | undefined }> {
  checkInput(input);
  const { layer, location, layerStoreRoot } = input;
  const warn = input.warn ?? (() => {});
  const layerDir = layerDirUnder(layerStoreRoot, location.driver, layer.id);
  await requireLayerDir(layerDir, layer.id);
  const tarSplit = tarSplitPath(layerStoreRoot, location.driver, layer.id);
  const replays = await pathExists(tarSplit, `layer ${layer.id}`);
  const source = replays ? replay(input, tarSplit, layerDir) : await diff(input, layerDir, warn);
  const digest = layer["diff-digest"];
  const size = layer["diff-size"];
  const verifies = replays && typeof digest === "string" && digest.startsWith("sha256:")
    ? { digest, size: typeof size === "number" && size >= 0 ? size : -1 }
    : undefined;
  return { chunks: guarded(source, input, layerDir), verifies };
}
