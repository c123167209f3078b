// What one walk of a layer's tree saw (each directory's names, each entry's lstat facts), so that a
// second walk of the same tree in the same copy (the vfs diff after the fingerprint) need not list
// and lstat it again. Names are latin1 strings (see byte-paths.ts). The facts of all entries sit in
// one Float64Array, a row per entry next to its directory's names: about 1.5 MB for 15k entries,
// where an object and a path string per entry took twice that, all of it kept until the diff.
import type { BigIntStats } from "node:fs";

/**
 * What the vfs comparison needs of an lstat, as plain numbers: the mtime in whole seconds and
 * nanoseconds (same sign as the seconds), so that comparing two entries needs no bigint arithmetic.
 */
export interface EntryFacts {
  mode: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
}

const NS = 1_000_000_000n;

export function entryFacts(st: BigIntStats): EntryFacts {
  const ns = st.mtimeNs;
  return {
    mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), rdev: Number(st.rdev), size: Number(st.size),
    mtimeSec: Number(ns / NS), mtimeNsec: Number(ns % NS),
  };
}

/** mode, uid, gid, rdev, size, mtime seconds, mtime nanoseconds (same sign as the seconds). */
const ROW = 7;
/** The mode of a name that vanished between readdir and lstat. */
const VANISHED = -1;

/** One directory as the walk listed it. */
export interface ListedDirectory {
  names: readonly string[];
  /** Row of names[0]; names[i] is row first + i. */
  first: number;
}

export class TreeListing {
  /** Relative directory path ("" for the root) -> its names, as readdir gave them. */
  private readonly dirs = new Map<string, ListedDirectory>();
  private rows = new Float64Array(ROW * 1024);
  private used = 0;

  /** Lists directory `rel`: a row is reserved for each of its names, filled by setEntry. */
  addDirectory(rel: string, names: readonly string[]): ListedDirectory {
    const dir = { names, first: this.used };
    this.used += names.length;
    if (this.used * ROW > this.rows.length) {
      const grown = new Float64Array(Math.max(this.rows.length * 2, this.used * ROW));
      grown.set(this.rows);
      this.rows = grown;
    }
    this.dirs.set(rel, dir);
    return dir;
  }

  /** The facts of `dir.names[index]`; null when it vanished between readdir and lstat. */
  setEntry(dir: ListedDirectory, index: number, facts: EntryFacts | null): void {
    const at = (dir.first + index) * ROW;
    if (!facts) {
      this.rows[at] = VANISHED;
      return;
    }
    this.rows[at] = facts.mode;
    this.rows[at + 1] = facts.uid;
    this.rows[at + 2] = facts.gid;
    this.rows[at + 3] = facts.rdev;
    this.rows[at + 4] = facts.size;
    this.rows[at + 5] = facts.mtimeSec;
    this.rows[at + 6] = facts.mtimeNsec;
  }

  /** Drops everything (the diff is done with it): a listing is used once, and its memory is not kept for the rest of the copy. */
  release(): void {
    this.dirs.clear();
    this.rows = new Float64Array(0);
    this.used = 0;
  }

  /** Directory `rel`, when the walk listed it. */
  directory(rel: string): ListedDirectory | undefined {
    return this.dirs.get(rel);
  }

  /** The facts of `dir.names[index]`; null when it had vanished. */
  facts(dir: ListedDirectory, index: number): EntryFacts | null {
    const at = (dir.first + index) * ROW;
    const r = this.rows;
    if (r[at] === VANISHED) return null;
    return {
      mode: r[at] as number, uid: r[at + 1] as number, gid: r[at + 2] as number, rdev: r[at + 3] as number, size: r[at + 4] as number,
      mtimeSec: r[at + 5] as number, mtimeNsec: r[at + 6] as number,
    };
  }
}
