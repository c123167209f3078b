// Paths as bytes: file names need not be UTF-8, and tar orders entries by byte value.
import { readdirSync } from "node:fs";
import { readdir } from "node:fs/promises";

const SLASH = Buffer.from("/");
const EMPTY = Buffer.alloc(0);

/** `parent/name`, or just `name` when parent is empty (a path relative to the layer root). */
export function childPath(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 0 ? name : Buffer.concat([parent, SLASH, name]);
}

/** Directory part and last component of a relative path ("a/b/c" -> "a/b", "c"). */
export function splitPath(path: Buffer): { dir: Buffer; base: Buffer } {
  const slash = path.lastIndexOf(0x2f);
  return slash < 0 ? { dir: EMPTY, base: path } : { dir: path.subarray(0, slash), base: path.subarray(slash + 1) };
}

/** A directory's entry names, sorted by bytes (as Go's filepath.Walk and sort.Strings do). */
export async function sortedNames(dir: Buffer): Promise<Buffer[]> {
  const names = await readdir(dir, { encoding: "buffer" });
  return names.sort(Buffer.compare);
}

/**
 * sortedNames, synchronously: a walk that reads every directory of a tree one after the other gains
 * nothing from the thread pool, and a round trip per directory costs more than the read.
 */
export function sortedNamesSync(dir: Buffer): Buffer[] {
  return readdirSync(dir, { encoding: "buffer" }).sort(Buffer.compare);
}

export { EMPTY as ROOT_PATH };
