// Opens a file named by tar-split (untrusted) inside a layer directory without leaving it: the
// name is resolved lexically ("..", ".", "//"), and no symlink is ever followed on the way. Each
// directory is opened (O_DIRECTORY | O_NOFOLLOW) through its parent's open descriptor as
// /proc/self/fd/<parent>/<name>, the file likewise with O_NOFOLLOW, so a symlink anywhere on the
// way is refused, race-free; the directories of the last file stay open for the next one (tar
// order keeps a directory's files together). Without /proc, the path the kernel opened is checked
// with an lstat of each directory on the way instead. Metadata calls are synchronous: one per
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

/** Whether /proc/self/fd can be used here (undefined: not tried yet). */
let procUsable: boolean | undefined;

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/**
 * Directories a LayerDirectory keeps open at most (the root and 31 levels): several layers are
 * replayed at once, an overlay layer looks in its lowers, and descriptors are a limited resource.
 * A deeper file's last directories are opened again for the next file.
 */
const MAX_KEPT_DIRS = 32;

/** `/proc/self/fd/<fd>/`: what names a member of the directory open as `fd`, whatever path led there. */
function procPrefix(fd: number): Buffer {
  return Buffer.from(`/proc/self/fd/${fd}/`);
}

/** An open regular file of a layer; the caller closes `fd` (closeSync). */
export interface LayerFile {
  fd: number;
  size: number;
}

/** Opens files under one layer directory (a root); close() releases the directories it keeps open. */
export class LayerDirectory {
  private realRoot: Buffer | undefined;
  /** The directories of the last file opened: openDirs[0] is the root, openDirs[i + 1] is openNames[i] in openDirs[i]. */
  private readonly openDirs: number[] = [];
  private readonly openNames: Buffer[] = [];
  /** procPrefix of each of openDirs. */
  private readonly openPrefixes: Buffer[] = [];

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
    const fd = procUsable !== false && this.openRoot() ? this.openThroughDirs(parts, printable, what) : this.openByPath(parts, printable, what);
    // A miss (an overlay file is in another layer) keeps nothing open here but the root.
    this.keepDirs(fd === undefined ? 1 : MAX_KEPT_DIRS);
    if (fd === undefined) return undefined;
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new CorruptInputError(`${what}: ${printable()}: is not a regular file`);
      return { fd, size: st.size };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Closes the directories kept open; the next openRegular opens them again. */
  close(): void {
    this.keepDirs(0);
  }

  /** Closes the deepest open directories until at most `count` are left open. */
  private keepDirs(count: number): void {
    while (this.openDirs.length > count) {
      this.openNames.length = Math.max(0, this.openDirs.length - 2);
      this.openPrefixes.pop();
      closeSync(this.openDirs.pop() as number);
    }
  }

  /**
   * Opens the root directory once and checks, through /proc, that it is the real root (false
   * when /proc cannot tell: the caller then checks paths itself).
   */
  private openRoot(): boolean {
    if (this.openDirs.length > 0) return true;
    const realRoot = this.realRoot as Buffer;
    const fd = openSync(realRoot, DIR_FLAGS);
    let actual: Buffer;
    try {
      actual = readlinkSync(`/proc/self/fd/${fd}`, { encoding: "buffer" });
    } catch (err) {
      closeSync(fd);
      if (procUsable === true) throw err;
      procUsable = false; // no /proc here: check each directory on the way instead
      return false;
    }
    procUsable = true;
    if (!actual.equals(realRoot)) {
      closeSync(fd);
      throw new CorruptInputError(`${this.root}: the layer directory was replaced while it was read`);
    }
    this.openDirs.push(fd);
    this.openPrefixes.push(procPrefix(fd));
    return true;
  }

  /** The file's descriptor, each directory on the way opened in its parent without following a symlink. */
  private openThroughDirs(parts: readonly Buffer[], printable: () => string, what: string): number | undefined {
    const depth = parts.length - 1;
    let kept = 0;
    while (kept < depth && kept < this.openNames.length && (this.openNames[kept] as Buffer).equals(parts[kept] as Buffer)) kept++;
    this.keepDirs(kept + 1);
    for (let i = kept; i < depth; i++) {
      const part = parts[i] as Buffer;
      const path = Buffer.concat([this.openPrefixes[i] as Buffer, part]);
      const dir = openMember(path, DIR_FLAGS, () => `${what}: ${printable()}: the path goes through a symlink`);
      if (dir === undefined) {
        // O_DIRECTORY | O_NOFOLLOW refuses a symlink with ENOTDIR, as it does a file: tell them apart for the message
        if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) throw new CorruptInputError(`${what}: ${printable()}: the path goes through a symlink`);
        return undefined;
      }
      this.openDirs.push(dir);
      this.openNames.push(part);
      this.openPrefixes.push(procPrefix(dir));
    }
    return openMember(Buffer.concat([this.openPrefixes[depth] as Buffer, parts[depth] as Buffer]), OPEN_FLAGS, () => `${what}: ${printable()}: is a symlink, not the file's content`);
  }

  /** Without /proc: the whole path opened (O_NOFOLLOW), then each directory on the way lstat'ed. */
  private openByPath(parts: readonly Buffer[], printable: () => string, what: string): number | undefined {
    const root = this.realRoot as Buffer;
    const fd = openMember(joinComponents(root, parts), OPEN_FLAGS, () => `${what}: ${printable()}: is a symlink, not the file's content`);
    if (fd === undefined) return undefined;
    try {
      for (let i = 1; i < parts.length; i++) {
        if (!lstatSync(joinComponents(root, parts.slice(0, i))).isDirectory()) {
          throw new CorruptInputError(`${what}: ${printable()}: the path goes through a symlink`);
        }
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return fd;
  }
}

/** open(2) of one member; undefined when it is not there, CorruptInputError(symlink()) when it is a symlink. */
function openMember(path: Buffer, flags: number, symlink: () => string): number | undefined {
  try {
    return openSync(path, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "ELOOP") throw new CorruptInputError(symlink(), { cause: err });
    throw err;
  }
}
