// A vfs layer without tar-split (a container's read-write layer): vfs keeps whole trees, so the
// layer is the difference between its tree and its parent's, found the way containers/storage's
// ChangesDirs does it, then written in path order (ExportChanges). Only the list of changes is
// kept in memory, never the parent's tree; when the fingerprint walk has just listed the
// container's tree, its compact listing stands for the new side (the tree is not listed and
// lstat'ed twice) and is released once the comparison is done.
// Paths are in latin1 form here (see byte-paths.ts).
import { lstatSync, readlinkSync, type BigIntStats } from "node:fs";
import { AbortedError } from "../../../src/errors.js";
import type { FsEntryArchiver } from "./fs-entry-archiver.js";
import { mtimeSeconds, readsAhead } from "./fs-entry-archiver.js";
import { ENTRIES_PER_TURN, yieldToEventLoop } from "./file-content.js";
import type { IdMapper } from "./id-mapping.js";
import { latin1Child, latin1Names, latin1Path, systemPath, type Latin1Path } from "./byte-paths.js";
import { encodeTarHeader, TYPE_FILE } from "./tar-header.js";
import { entryFacts, type EntryFacts, type TreeListing } from "./tree-listing.js";
export interface VfsDiffOptions {
  archiver: FsEntryArchiver;
  layerDir: string;
  /** The parent layer's tree; undefined for a base layer (everything is added). */
  parentDir: string | undefined;
  /** Ids in the parent's tree, for comparing owners in container terms. */
  parentMapper: IdMapper;
  /** What a walk of `layerDir` (the fingerprint's) saw just before: used instead of listing it again. */
  listing?: TreeListing | undefined;
}

interface Change {
  /** Relative to the layer root, latin1 (see the top of the file). */
  path: string;
  deleted: boolean;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Equal seconds and equal nanoseconds, or either side without nanoseconds. */
function sameMtime(a: EntryFacts, b: EntryFacts): boolean {
  return a.mtimeSec === b.mtimeSec && (a.mtimeNsec === b.mtimeNsec || a.mtimeNsec === 0 || b.mtimeNsec === 0);
}

/** The tick between two turns of the event loop; the walk is synchronous in between. */
const TURN = Symbol("turn");

class ChangeCollector {
  readonly changes: Change[] = [];
  private visited = 0;

  constructor(private readonly opts: VfsDiffOptions) {}

  private get ctx() {
    return this.opts.archiver.ctx;
  }

  /** Same owner in container terms (ids outside a mapping compared as they are). */
  private sameOwner(o: EntryFacts, n: EntryFacts): boolean {
    const parent = this.opts.parentMapper, own = this.ctx.mapper;
    return (parent.tryUid(o.uid) ?? o.uid) === (own.tryUid(n.uid) ?? n.uid) && (parent.tryGid(o.gid) ?? o.gid) === (own.tryGid(n.gid) ?? n.gid);
  }

  private xattrKey(path: string | Buffer, names: readonly string[]): string {
    const xattrs = this.ctx.xattrs.exported(path, names);
    return xattrs.map(([k, v]) => `${k}=${v.toString("base64")}`).join("\n");
  }

  /** Equal exported xattrs; two entries without any xattr (nearly all) are equal without more work. */
  private sameXattrs(oldPath: string | Buffer, newPath: string | Buffer): boolean {
    const oldNames = this.ctx.xattrs.names(oldPath), newNames = this.ctx.xattrs.names(newPath);
    if (oldNames.length === 0 && newNames.length === 0) return true;
    return this.xattrKey(oldPath, oldNames) === this.xattrKey(newPath, newNames);
  }

  private differs(o: EntryFacts, n: EntryFacts, oldPath: string | Buffer, newPath: string | Buffer): boolean {
    if (o.mode !== n.mode || o.rdev !== n.rdev) return true;
    if (!this.sameOwner(o, n)) return true;
    const type = o.mode & S_IFMT;
    if (type !== S_IFDIR && (!sameMtime(o, n) || o.size !== n.size)) return true;
    if (type === S_IFLNK) return !readlinkBytes(oldPath).equals(readlinkBytes(newPath));
    return !this.sameXattrs(oldPath, newPath);
  }

  /**
   * An abort stops the walk; true every ENTRIES_PER_TURN entries, when the caller gives the event
   * loop a turn (a plain call, not a generator per entry).
   */
  private turnDue(): boolean {
    if (this.ctx.signal?.aborted) throw new AbortedError(`layer ${this.ctx.layerId}: aborted`);
    return ++this.visited % ENTRIES_PER_TURN === 0;
  }

  /**
   * Records the changes under the directory `rel` of the new tree against the same directory of
   * the old one (undefined: it is not a directory there, or the layer has no parent); `recorded`:
   * the directory itself is already listed. A name only in the old tree is a deletion and needs
   * no lstat. The order of the walk does not matter: the changes are sorted before they are written.
   */
  *compareDir(rel: string, newDir: Latin1Path, oldDir: Latin1Path | undefined, recorded: boolean): Generator<typeof TURN> {
    const sizeAtEntry = this.changes.length;
    const listing = this.opts.listing;
    const listed = listing?.directory(rel);
    const names = listed?.names ?? latin1Names(newDir);
    const oldNames = oldDir ? new Set(latin1Names(oldDir)) : undefined;
    for (let index = 0; index < names.length; index++) {
      if (this.turnDue()) yield TURN;
      const name = names[index] as string;
      const childRel = rel.length === 0 ? name : `${rel}/${name}`;
      const newChild = latin1Child(newDir, name);
      const newPath = systemPath(newChild);
      const n = listing && listed ? listing.facts(listed, index) : lstatFacts(newPath);
      if (!n) continue; // removed while we walked (an old name of it counts as deleted)
      const isDir = (n.mode & S_IFMT) === S_IFDIR;
      const oldChild = oldDir && oldNames?.delete(name) ? latin1Child(oldDir, name) : undefined;
      const oldPath = oldChild && systemPath(oldChild);
      const oldSt = oldPath !== undefined ? lstatSync(oldPath, { bigint: true, throwIfNoEntry: false }) : undefined;
      if (!oldSt) {
        this.changes.push({ path: childRel, deleted: false });
        if (isDir) yield* this.compareDir(childRel, newChild, undefined, true);
        continue;
      }
      const o = entryFacts(oldSt);
      const changed = this.differs(o, n, oldPath as string | Buffer, newPath);
      if (changed) this.changes.push({ path: childRel, deleted: false });
      // Only descend into the old tree when both sides are directories.
      if (isDir) yield* this.compareDir(childRel, newChild, (o.mode & S_IFMT) === S_IFDIR ? oldChild : undefined, changed);
    }
    if (oldNames) for (const name of oldNames) this.changes.push({ path: rel.length === 0 ? name : `${rel}/${name}`, deleted: true });
    // A directory with changes inside is written too (its mode and owner must be restored).
    if (this.changes.length > sizeAtEntry && !recorded && rel.length > 0) this.changes.push({ path: rel, deleted: false });
  }
}

/** The entry's facts, lstat'ed now; null when it is gone. */
function lstatFacts(path: string | Buffer): EntryFacts | null {
  const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
  return st ? entryFacts(st) : null;
}

function readlinkBytes(path: string | Buffer): Buffer {
  return readlinkSync(path, { encoding: "buffer" });
}

/** Byte order of latin1 strings: their code units are the bytes. */
function byPath(a: Change, b: Change): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export async function* vfsLayerTar(opts: VfsDiffOptions): AsyncGenerator<Buffer> {
  const { archiver } = opts;
  const collector = new ChangeCollector(opts);
  // The roots are never entries themselves: only their contents are compared.
  const root = latin1Path(opts.layerDir);
  const walk = collector.compareDir("", root, opts.parentDir === undefined ? undefined : latin1Path(opts.parentDir), true);
  try {
    for (let step = walk.next(); !step.done; step = walk.next()) await yieldToEventLoop();
  } finally {
    opts.listing?.release();
  }
  const changes = collector.changes.sort(byPath);

  let emitted = 0;
  for (const change of changes) {
    if (archiver.ctx.signal?.aborted) throw new AbortedError(`layer ${archiver.ctx.layerId}: aborted`);
    if (++emitted % ENTRIES_PER_TURN === 0) await yieldToEventLoop();
    const path = Buffer.from(change.path, "latin1");
    if (change.deleted) {
      const slash = change.path.lastIndexOf("/");
      const dir = slash < 0 ? "" : change.path.slice(0, slash);
      const base = change.path.slice(slash + 1);
      const parent = lstatSync(absolute(root, dir), { bigint: true });
      const whiteout = encodeTarHeader({
        name: Buffer.from(slash < 0 ? `${WHITEOUT_PREFIX}${base}` : `${dir}/${WHITEOUT_PREFIX}${base}`, "latin1"),
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
    const abs = absolute(root, change.path);
    let st: BigIntStats;
    try {
      st = lstatSync(abs, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      archiver.ctx.warn(`layer ${archiver.ctx.layerId}: ${path.toString("utf8")} vanished while the layer was read; left out`);
      continue;
    }
    const header = archiver.header(abs, path, st);
    if (header && readsAhead(header)) yield* archiver.entryReadAhead(abs, header);
    else if (header) for (const batch of archiver.entry(abs, header)) yield batch;
  }
  const last = archiver.out.flush();
  if (last) yield last;
}

const WHITEOUT_PREFIX = ".wh.";

/** `root/rel` as the system calls take it. */
function absolute(root: Latin1Path, rel: string): string | Buffer {
  return rel.length === 0 ? systemPath(root) : systemPath(latin1Child(root, rel));
}
