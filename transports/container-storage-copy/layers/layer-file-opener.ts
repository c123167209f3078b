// Opens a file named by tar-split (untrusted) inside a layer directory without leaving it: the
// name is resolved lexically ("..", ".", "//"), the last component is opened with O_NOFOLLOW, and
// the path the kernel actually opened (/proc/self/fd) must be exactly the expected one, so a
// symlink anywhere on the way is refused, race-free. Metadata calls are synchronous: one per
// file, each cheaper than a thread-pool round trip.
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, realpathSync } from "node:fs";
import { CorruptInputError } from "../../../src/errors.js";

const SLASH = 0x2f;
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Splits a member name into path components, resolving "." and ".." lexically.
 * Returns undefined when the name is empty or ".." climbs out of the layer.
 */
export function memberComponents(name: Buffer): Buffer[] | undefined {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    if (i < name.length && name[i] !== SLASH) continue;
    const part = name.subarray(start, i);
    start = i + 1;
    if (part.length === 0 || (part.length === 1 && part[0] === 0x2e)) continue;
    if (part.length === 2 && part[0] === 0x2e && part[1] === 0x2e) {
      if (parts.length === 0) return undefined;
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return parts.length > 0 ? parts : undefined;
}

const SLASH_BYTES = Buffer.from("/");

function joinComponents(root: Buffer, parts: readonly Buffer[]): Buffer {
  const pieces: Buffer[] = [root];
  for (const p of parts) pieces.push(SLASH_BYTES, p);
  return Buffer.concat(pieces);
}

let procUsable: boolean | undefined;

/** An open regular file of a layer; the caller closes `fd` (closeSync). */
export interface LayerFile {
  fd: number;
  size: number;
}

/** Opens files under one layer directory (a root). */
export class LayerDirectory {
  private realRoot: Buffer | undefined;

  constructor(readonly root: string) {}

  /**
   * Opens `name`'s regular file read-only; undefined when it does not exist there.
   * `what` prefixes error messages (e.g. "layer <id>").
   */
  openRegular(name: Buffer, what: string): LayerFile | undefined {
    const printable = (): string => name.toString("utf8"); // for messages only
    const parts = memberComponents(name);
    if (!parts) throw new CorruptInputError(`${what}: ${printable()}: the name escapes the layer directory`);
    this.realRoot ??= realpathSync(this.root, { encoding: "buffer" });
    const expected = joinComponents(this.realRoot, parts);
    let fd: number;
    try {
      fd = openSync(expected, OPEN_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      if (code === "ELOOP") throw new CorruptInputError(`${what}: ${printable()}: is a symlink, not the file's content`, { cause: err });
      throw err;
    }
    try {
      this.checkOpenedPath(fd, expected, parts, printable, what);
      const st = fstatSync(fd);
      if (!st.isFile()) throw new CorruptInputError(`${what}: ${printable()}: is not a regular file`);
      return { fd, size: st.size };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  private checkOpenedPath(fd: number, expected: Buffer, parts: readonly Buffer[], printable: () => string, what: string): void {
    if (procUsable !== false) {
      let actual: Buffer | undefined;
      try {
        actual = readlinkSync(`/proc/self/fd/${fd}`, { encoding: "buffer" });
        procUsable = true;
      } catch (err) {
        if (procUsable === true) throw err;
        procUsable = false; // no /proc here: check each directory on the way instead
      }
      if (actual !== undefined) {
        if (!actual.equals(expected)) throw new CorruptInputError(`${what}: ${printable()}: the path goes through a symlink`);
        return;
      }
    }
    const root = this.realRoot as Buffer;
    for (let i = 1; i < parts.length; i++) {
      if (!lstatSync(joinComponents(root, parts.slice(0, i))).isDirectory()) {
        throw new CorruptInputError(`${what}: ${printable()}: the path goes through a symlink`);
      }
    }
  }
}
