// A vfs layer without tar-split (a container's read-write layer): vfs keeps whole trees, so the
// layer is the difference between its tree and its parent's, found the way containers/storage's
// ChangesDirs does it, then written in path order (ExportChanges). Only the list of changes is
// kept in memory, never either tree.
import { lstatSync, readlinkSync, type BigIntStats } from "node:fs";
import { AbortedError } from "../../../src/errors.js";
import { childPath, ROOT_PATH, sortedNamesSync, splitPath } from "./byte-paths.js";
import type { FsEntryArchiver } from "./fs-entry-archiver.js";
import { mtimeSeconds } from "./fs-entry-archiver.js";
import { ENTRIES_PER_TURN, yieldToEventLoop } from "./file-content.js";
import type { IdMapper } from "./id-mapping.js";
import { encodeTarHeader, TYPE_FILE } from "./tar-header.js";

const WHITEOUT_PREFIX = Buffer.from(".wh.");

export interface VfsDiffOptions {
  archiver: FsEntryArchiver;
  layerDir: string;
  /** The parent layer's tree; undefined for a base layer (everything is added). */
  parentDir: string | undefined;
  /** Ids in the parent's tree, for comparing owners in container terms. */
  parentMapper: IdMapper;
}

interface Change {
  path: Buffer;
  deleted: boolean;
}

/**
 * What the comparison needs of an lstat, kept per entry of the directories being compared: plain
 * numbers (one bigint for the nanosecond mtime) instead of a BigIntStats (18 bigints, 4 Dates).
 */
interface Facts {
  mode: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  mtimeNs: bigint;
}

const S_IFMT = 0o170000;

function factsOf(st: BigIntStats): Facts {
  const mode = Number(st.mode);
  return {
    mode,
    uid: Number(st.uid),
    gid: Number(st.gid),
    rdev: Number(st.rdev),
    size: Number(st.size),
    mtimeNs: st.mtimeNs,
  };
}

const isDirectory = (f: Facts): boolean => (f.mode & S_IFMT) === 0o040000;
const isSymbolicLink = (f: Facts): boolean => (f.mode & S_IFMT) === 0o120000;

interface Node {
  abs: Buffer;
  rel: Buffer;
  st: Facts;
  /** The stand-in parent of a base layer: a directory with nothing in it. */
  empty?: boolean;
}

/** Equal seconds and equal nanoseconds, or either side without nanoseconds. */
function sameMtime(a: Facts, b: Facts): boolean {
  const ns = 1_000_000_000n;
  const as = a.mtimeNs / ns, bs = b.mtimeNs / ns;
  const an = a.mtimeNs % ns, bn = b.mtimeNs % ns;
  return as === bs && (an === bn || an === 0n || bn === 0n);
}

class ChangeCollector {
  readonly changes: Change[] = [];
  private visited = 0;

  constructor(private readonly opts: VfsDiffOptions) {}

  private get ctx() {
    return this.opts.archiver.ctx;
  }

  /** Same owner in container terms (ids outside a mapping compared as they are). */
  private sameOwner(o: Facts, n: Facts): boolean {
    const parent = this.opts.parentMapper, own = this.ctx.mapper;
    return (parent.tryUid(o.uid) ?? o.uid) === (own.tryUid(n.uid) ?? n.uid) && (parent.tryGid(o.gid) ?? o.gid) === (own.tryGid(n.gid) ?? n.gid);
  }

  private xattrKey(node: Node): string {
    if (isSymbolicLink(node.st)) return "";
    const xattrs = this.ctx.xattrs.exported(node.abs, this.ctx.xattrs.names(node.abs));
    return xattrs.map(([k, v]) => `${k}=${v.toString("base64")}`).join("\n");
  }

  private differs(oldNode: Node, newNode: Node): boolean {
    const o = oldNode.st, n = newNode.st;
    if (o.mode !== n.mode || o.rdev !== n.rdev) return true;
    if (!this.sameOwner(o, n)) return true;
    if (!isDirectory(o) && (!sameMtime(o, n) || o.size !== n.size)) return true;
    if (isSymbolicLink(o) && !readlinkSync(oldNode.abs, { encoding: "buffer" }).equals(readlinkSync(newNode.abs, { encoding: "buffer" }))) return true;
    return this.xattrKey(oldNode) !== this.xattrKey(newNode);
  }

  private children(node: Node): Map<string, Node> {
    const out = new Map<string, Node>();
    if (node.empty) return out;
    for (const name of sortedNamesSync(node.abs)) {
      const abs = childPath(node.abs, name);
      const st = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
      if (st) out.set(name.toString("latin1"), { abs, rel: childPath(node.rel, name), st: factsOf(st) }); // else: removed while we walked
    }
    return out;
  }

  /** Records the changes under `newNode` against `oldNode`; `alreadyRecorded`: newNode itself is listed. */
  async compare(newNode: Node, oldNode: Node | undefined, alreadyRecorded: boolean): Promise<void> {
    if (this.ctx.signal?.aborted) throw new AbortedError(`layer ${this.ctx.layerId}: aborted`);
    if (++this.visited % ENTRIES_PER_TURN === 0) await yieldToEventLoop();
    const sizeAtEntry = this.changes.length;
    let recorded = alreadyRecorded;
    if (!oldNode) {
      this.changes.push({ path: newNode.rel, deleted: false });
      recorded = true;
    }
    if (!isDirectory(newNode.st)) return;
    // Only descend into the old tree when both sides are directories.
    const oldChildren = oldNode && isDirectory(oldNode.st) ? this.children(oldNode) : new Map<string, Node>();
    for (const [key, child] of this.children(newNode)) {
      const oldChild = oldChildren.get(key);
      let childRecorded = false;
      if (oldChild) {
        if (this.differs(oldChild, child)) {
          this.changes.push({ path: child.rel, deleted: false });
          childRecorded = true;
        }
        oldChildren.delete(key);
      }
      await this.compare(child, oldChild, childRecorded);
    }
    for (const gone of oldChildren.values()) this.changes.push({ path: gone.rel, deleted: true });
    // A directory with changes inside is written too (its mode and owner must be restored).
    if (this.changes.length > sizeAtEntry && !recorded && newNode.rel.length > 0) {
      this.changes.push({ path: newNode.rel, deleted: false });
    }
  }
}

export async function* vfsLayerTar(opts: VfsDiffOptions): AsyncGenerator<Buffer> {
  const { archiver } = opts;
  const collector = new ChangeCollector(opts);
  const root = Buffer.from(opts.layerDir);
  const newRoot: Node = { abs: root, rel: ROOT_PATH, st: factsOf(lstatSync(root, { bigint: true })) };
  let oldRoot: Node = { ...newRoot, empty: true };
  if (opts.parentDir !== undefined) {
    const parent = Buffer.from(opts.parentDir);
    oldRoot = { abs: parent, rel: ROOT_PATH, st: factsOf(lstatSync(parent, { bigint: true })) };
  }
  // The roots themselves are never entries: only their contents are compared.
  await collector.compare(newRoot, oldRoot, true);
  const changes = collector.changes.sort((a, b) => Buffer.compare(a.path, b.path));

  let emitted = 0;
  for (const change of changes) {
    if (archiver.ctx.signal?.aborted) throw new AbortedError(`layer ${archiver.ctx.layerId}: aborted`);
    if (++emitted % ENTRIES_PER_TURN === 0) await yieldToEventLoop();
    const { dir, base } = splitPath(change.path);
    if (change.deleted) {
      const parent = lstatSync(childPath(root, dir), { bigint: true });
      const whiteout = encodeTarHeader({
        name: childPath(dir, Buffer.concat([WHITEOUT_PREFIX, base])),
        typeflag: TYPE_FILE,
        mode: 0,
        uid: 0,
        gid: 0,
        size: 0,
        // containers/storage stamps whiteouts with "now"; the directory's mtime keeps output reproducible
        mtime: archiver.ctx.mtime ?? mtimeSeconds(parent),
      });
      for (const batch of archiver.raw(whiteout)) yield batch;
      continue;
    }
    const abs = childPath(root, change.path);
    let st: BigIntStats;
    try {
      st = lstatSync(abs, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      archiver.ctx.warn(`layer ${archiver.ctx.layerId}: ${change.path.toString("utf8")} vanished while the layer was read; left out`);
      continue;
    }
    const header = archiver.header(abs, change.path, st);
    if (header) for (const batch of archiver.entry(abs, header)) yield batch;
  }
  const last = archiver.out.flush();
  if (last) yield last;
}
