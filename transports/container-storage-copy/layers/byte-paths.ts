// Paths as bytes: file names need not be UTF-8, and tar orders entries by byte value.
import { readdirSync } from "node:fs";

const SLASH = Buffer.from("/");
const EMPTY = Buffer.alloc(0);

/** `parent/name`, or just `name` when parent is empty (a path relative to the layer root). */
export function childPath(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 0 ? name : Buffer.concat([parent, SLASH, name]);
}

/**
 * A directory's entry names, sorted by bytes (as Go's filepath.Walk and sort.Strings do). Synchronous:
 * a walk that reads every directory of a tree one after the other gains nothing from the thread pool,
 * and a round trip per directory costs more than the read.
 */
export function sortedNamesSync(dir: Buffer): Buffer[] {
  return readdirSync(dir, { encoding: "buffer" }).sort(Buffer.compare);
}

export { EMPTY as ROOT_PATH };

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * A path in latin1 form: one character per byte, so any name survives and string order is byte
 * order; far cheaper to read, join and compare than a Buffer per name. `ascii`: the system calls
 * can take `text` as it is (UTF-8 of ASCII is the same bytes).
 */
export interface Latin1Path {
  text: string;
  ascii: boolean;
}

/** A path given as a JavaScript string (UTF-8 on disk) in latin1 form. */
export function latin1Path(path: string): Latin1Path {
  const bytes = Buffer.from(path);
  return { text: bytes.toString("latin1"), ascii: bytes.length === path.length && !NON_ASCII.test(path) };
}

/** `dir/name` (name in latin1 form). */
export function latin1Child(dir: Latin1Path, name: string): Latin1Path {
  return { text: `${dir.text}/${name}`, ascii: dir.ascii && !NON_ASCII.test(name) };
}

/** What the system calls take: the text itself when ASCII, else its bytes. */
export function systemPath(path: Latin1Path): string | Buffer {
  return path.ascii ? path.text : Buffer.from(path.text, "latin1");
}

/** A directory's entry names in latin1 form (unsorted). */
export function latin1Names(dir: Latin1Path): string[] {
  return readdirSync(systemPath(dir), { encoding: "latin1" });
}
