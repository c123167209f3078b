// The fingerprint of a container's read-write layer: a sha256 over everything that decides the
// bytes of the tar imgcopy makes of it (store, layer, parents, id mappings, export options, the
// layer code's format version, and the lstat of every entry walked), without reading any file.
// Equal fingerprints mean equal tars, so a DiffID computed once can stand for the layer again.
import { createHash, type Hash } from "node:crypto";
import { lstatSync, readFileSync, type BigIntStats } from "node:fs";
import { AbortedError } from "../../src/errors.js";
import { latin1Child, latin1Names, latin1Path, systemPath, type Latin1Path } from "./layers/byte-paths.js";
import { layerDirUnder } from "./layers/layer-paths.js";
import { entryFacts, type TreeListing } from "./layers/tree-listing.js";
import { XattrReader } from "./layers/xattr-reader.js";
import type { LayerRecord, StoreLocation } from "./store/record-types.js";

/**
 * Bump whenever the code that turns a layer directory into tar bytes (./layers) changes what it
 * writes for the same files: every fingerprint changes with it, so no old DiffID can match.
 */
export const LAYER_FORMAT_VERSION = 1;

/**
 * How much older than the walk the newest inode change must be for the fingerprint to be kept
 * (see isSettled). Timestamps are taken from a coarse clock (a jiffy, up to 10 ms, on Linux; whole
 * seconds on ext3 and on some NFS servers; FAT has 2 s mtimes), so a file written again within
 * the same tick as the walk could keep every stamp and its size. 2 s covers every granularity a
 * containers/storage graph root can have and leaves room for a small clock step.
 */
export const SETTLE_MARGIN_NS = 2_000_000_000n;

/** Overlay marks a directory that hides the lower layers' with one of these (its tar gets ".wh..wh..opq"). */
const OPAQUE_XATTRS = ["trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"];

/** Entries walked between turns of the event loop (so that an abort is seen). */
const ENTRIES_PER_TURN = 2048;

export interface FingerprintInput {
  location: StoreLocation;
  /** The read-write layer, with the id mapping it is read through. */
  layer: LayerRecord;
  /** Its ancestors, nearest first. */
  lowers: readonly LayerRecord[];
  /** The store root holding the layer's directory. */
  layerStoreRoot: string;
  /** --timestamp: the mtime every diffed entry gets (seconds), when set. */
  mtime: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface LayerFingerprint {
  /** "sha256:..." over the header and every entry. */
  key: string;
  /** When the walk began (wall clock, ns since the epoch). */
  walkStartNs: bigint;
  /** The newest ctime of any entry walked (ns since the epoch). */
  newestChangeNs: bigint;
  entries: number;
}

/**
 * Whether a fingerprint may be remembered: every inode's last change is at least SETTLE_MARGIN_NS
 * older than the walk. A later write then gets a ctime the walk could not have seen, so it changes
 * the fingerprint. ctime, not mtime, is the clock that matters: the kernel sets it to "now" on
 * every change (content, owner, mode, xattrs, links, and utimes itself), while mtime is whatever
 * a program sets (a file can be written and its mtime put back, which the tests do).
 */
export function isSettled(fp: LayerFingerprint): boolean {
  return fp.newestChangeNs + SETTLE_MARGIN_NS < fp.walkStartNs;
}

/**
 * Walks the layer's directory (vfs: the container's whole tree; overlay: its diff/) with lstat only.
 * `listing`, when given, keeps what the walk saw, for the layer's diff to use instead of walking again.
 */
export async function fingerprintLayer(input: FingerprintInput, listing?: TreeListing): Promise<LayerFingerprint> {
  const { location, layer } = input;
  const walkStartNs = BigInt(Date.now()) * 1_000_000n;
  const xattrs = await XattrReader.open(() => undefined, `layer ${layer.id}`);
  const hash = createHash("sha256");
  const header = {
    format: LAYER_FORMAT_VERSION,
    driver: location.driver,
    graphRoot: location.graphRoot,
    layerStoreRoot: input.layerStoreRoot,
    layer: layer.id,
    uidmap: layer.uidmap ?? [],
    gidmap: layer.gidmap ?? [],
    lowers: input.lowers.map((l) => ({ id: l.id, diffDigest: l["diff-digest"] ?? null, diffSize: l["diff-size"] ?? null, uidmap: l.uidmap ?? [], gidmap: l.gidmap ?? [] })),
    mtime: input.mtime ?? null,
    xattrs: xattrs.available,
    // Owners are read as this process sees them: inside a user namespace they depend on its mapping.
    procUidMap: readProcFile("/proc/self/uid_map"),
    procGidMap: readProcFile("/proc/self/gid_map"),
  };
  hash.update(JSON.stringify(header));
  hash.update("\n");
  // Paths in latin1 form (see byte-paths.ts): hashed as latin1, they are the names' bytes.
  const root = latin1Path(layerDirUnder(input.layerStoreRoot, location.driver, layer.id));
  const walk: Walk = { entries: 0, newest: 0n, hash, pending: [], overlay: location.driver === "overlay", xattrs, signal: input.signal, listing };
  const rootStat = lstatSync(systemPath(root), { bigint: true });
  addEntry(walk, root, "", rootStat);
  if (rootStat.isDirectory()) await walkDirectory(walk, root, "");
  flush(walk);
  return { key: `sha256:${hash.digest("hex")}`, walkStartNs, newestChangeNs: walk.newest, entries: walk.entries };
}

interface Walk {
  entries: number;
  newest: bigint;
  hash: Hash;
  /** Text for the hash, fed in one update per PENDING_PARTS parts (an update per entry cost more than its bytes). */
  pending: string[];
  overlay: boolean;
  xattrs: XattrReader;
  signal: AbortSignal | undefined;
  listing: TreeListing | undefined;
}

const PENDING_PARTS = 1024;

/** Hashes `text` after everything fed before; latin1: one byte per character (names in latin1 form, the rest ASCII). */
function feed(walk: Walk, text: string): void {
  if (walk.pending.push(text) >= PENDING_PARTS) flush(walk);
}

function flush(walk: Walk): void {
  walk.hash.update(walk.pending.join(""), "latin1");
  walk.pending = [];
}

async function walkDirectory(walk: Walk, abs: Latin1Path, rel: string): Promise<void> {
  // Sorted by UTF-16 code units, which for latin1 text is byte order.
  const names = latin1Names(abs).sort();
  const listed = walk.listing?.addDirectory(rel, names);
  feed(walk, `dir ${names.length}\n`);
  for (const [index, name] of names.entries()) {
    if (++walk.entries % ENTRIES_PER_TURN === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      if (walk.signal?.aborted) throw new AbortedError(`fingerprint of ${Buffer.from(abs.text, "latin1").toString("utf8")}: aborted`);
    }
    const childAbs = latin1Child(abs, name);
    const childRel = rel.length === 0 ? name : `${rel}/${name}`;
    // A name that vanished between readdir and lstat is a change in progress: it still counts (as absent).
    const st = lstatSync(systemPath(childAbs), { bigint: true, throwIfNoEntry: false });
    if (listed) walk.listing?.setEntry(listed, index, st ? entryFacts(st) : null);
    if (!st) {
      feed(walk, childRel);
      feed(walk, "\0vanished\n");
      walk.newest = BigInt(Date.now()) * 1_000_000n; // never settled
      continue;
    }
    addEntry(walk, childAbs, childRel, st);
    if (st.isDirectory()) await walkDirectory(walk, childAbs, childRel);
  }
  feed(walk, "end\n");
}

function addEntry(walk: Walk, abs: Latin1Path, rel: string, st: BigIntStats): void {
  feed(walk, rel);
  feed(
    walk,
    `\0${st.mode} ${st.dev} ${st.ino} ${st.uid} ${st.gid} ${st.size} ${st.mtimeNs} ${st.ctimeNs} ${st.nlink} ${st.rdev}\n`,
  );
  if (st.ctimeNs > walk.newest) walk.newest = st.ctimeNs;
  if (walk.overlay && st.isDirectory()) {
    // Setting the opaque xattr changes the ctime too; its value is hashed as well, as it decides the tar.
    const path = systemPath(abs);
    const names = walk.xattrs.names(path);
    for (const name of OPAQUE_XATTRS) {
      if (!names.includes(name)) continue;
      const value = walk.xattrs.value(path, name);
      feed(walk, `xattr ${name}=${value?.toString("hex") ?? "-"}\n`);
    }
  }
}

function readProcFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return ""; // not Linux /proc: no namespaces to tell apart
  }
}
