// What one walk of a layer's tree saw (each directory's names, each entry's lstat facts), so that a
// second walk of the same tree in the same copy (the vfs diff after the fingerprint) need not list
// and lstat it again. Paths are latin1 strings: one character per byte (see byte-paths.ts).
import type { BigIntStats } from "node:fs";

/** What the vfs comparison needs of an lstat: plain numbers, one bigint for the nanosecond mtime. */
export interface EntryFacts {
  mode: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  mtimeNs: bigint;
}

export function entryFacts(st: BigIntStats): EntryFacts {
  return { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), rdev: Number(st.rdev), size: Number(st.size), mtimeNs: st.mtimeNs };
}

export class TreeListing {
  /** Relative directory path ("" for the root) -> its entries' names, as readdir gave them. */
  private readonly dirs = new Map<string, string[]>();
  /** Relative path -> its facts; null: the name vanished between readdir and lstat. */
  private readonly entries = new Map<string, EntryFacts | null>();

  addDirectory(rel: string, names: string[]): void {
    this.dirs.set(rel, names);
  }

  /** The entry's facts (see entryFacts); null when it vanished between readdir and lstat. */
  addEntry(rel: string, facts: EntryFacts | null): void {
    this.entries.set(rel, facts);
  }

  /** The names in directory `rel`, when the walk listed it. */
  names(rel: string): string[] | undefined {
    return this.dirs.get(rel);
  }

  /** The entry's facts; null when it had vanished, undefined when the walk did not see it. */
  facts(rel: string): EntryFacts | null | undefined {
    return this.entries.get(rel);
  }
}
