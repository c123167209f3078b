// Turns one filesystem object of a layer directory into tar bytes the way containers/storage's
// pkg/archive does (addTarFile): header from lstat, ids mapped back to the container's, exported
// xattrs as PAX, repeated inodes as hard links to the first name seen, then the content.
// Per-file metadata calls are synchronous: cheaper than a thread-pool round trip each.
import { closeSync, constants, fstatSync, openSync, readlinkSync, type BigIntStats } from "node:fs";
import { AbortedError, describeFsError, IOError } from "../../../src/errors.js";
import type { IdMapper } from "./id-mapping.js";
import { applyOverrideStat, OVERRIDE_STAT_XATTR, parseOverrideStat } from "./override-stat.js";
import { bigFileBatches, READ_AHEAD_MIN } from "./file-content.js";
import { TarBatches } from "./tar-batches.js";
import {
  encodeTarHeader, isWritableXattrName, type TarHeader,
  TYPE_BLOCK, TYPE_CHAR, TYPE_DIR, TYPE_FIFO, TYPE_FILE, TYPE_HARDLINK, TYPE_SYMLINK,
} from "./tar-header.js";
import type { XattrReader } from "./xattr-reader.js";

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface ArchiveContext {
  layerId: string;
  mapper: IdMapper;
  xattrs: XattrReader;
  warn: (msg: string) => void;
  signal?: AbortSignal | undefined;
  /** Every entry's mtime (whole seconds) instead of the file's: buildah commit --timestamp. */
  mtime?: number | undefined;
}

/** Whole seconds, rounded towards the past (Go's Time.Truncate(time.Second).Unix()). */
export function mtimeSeconds(st: BigIntStats): number {
  const ns = st.mtimeNs;
  let s = ns / 1_000_000_000n;
  if (ns < 0n && s * 1_000_000_000n !== ns) s -= 1n;
  return Number(s);
}

/** Linux dev_t encoding (glibc major()/minor()). */
export function deviceNumbers(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

function typeflagOf(st: BigIntStats): number | undefined {
  if (st.isFile()) return TYPE_FILE;
  if (st.isDirectory()) return TYPE_DIR;
  if (st.isSymbolicLink()) return TYPE_SYMLINK;
  if (st.isCharacterDevice()) return TYPE_CHAR;
  if (st.isBlockDevice()) return TYPE_BLOCK;
  if (st.isFIFO()) return TYPE_FIFO;
  return undefined; // sockets do not go into layers
}

/** Whether the entry's content is big enough to be read ahead (entryReadAhead; else entry() is cheaper). */
export function readsAhead(h: TarHeader): boolean {
  return h.typeflag === TYPE_FILE && h.size >= READ_AHEAD_MIN;
}

/** The open regular file at `absPath` (O_NOFOLLOW); anything else now is a change under way. */
function openRegularContent(absPath: Buffer | string, what: string): number {
  let fd: number;
  try {
    fd = openSync(absPath, OPEN_FLAGS);
  } catch (err) {
    throw describeFsError(err, what);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new IOError(`${what}: changed while the layer was read (is the container running?)`);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

function shrank(what: string, size: number, read: number): IOError {
  return new IOError(`${what}: shrank from ${size} to ${read} bytes while the layer was read (is the container running?)`);
}

export class FsEntryArchiver {
  private readonly firstNameOfInode = new Map<string, Buffer>();
  private readonly badXattrNames = new Set<string>();
  /** The tar being made: every entry goes through here, and the walker flushes it at its end. */
  readonly out = new TarBatches();

  constructor(readonly ctx: ArchiveContext) {}

  /**
   * The header for the object at `absPath` (already lstat'ed as `st`) archived as `name` (no
   * trailing slash); undefined for a socket. `xattrNames`: its xattr names when already listed.
   * `absPath` is the path's bytes, or the text of an ASCII path (what the system calls take as is).
   */
  header(absPath: Buffer | string, name: Buffer, st: BigIntStats, xattrNames?: readonly string[]): TarHeader | undefined {
    const typeflag = typeflagOf(st);
    if (typeflag === undefined) return undefined;
    let h: TarHeader = {
      name: typeflag === TYPE_DIR ? Buffer.concat([name, Buffer.from("/")]) : name,
      typeflag,
      mode: Number(st.mode) & 0o177777,
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: typeflag === TYPE_FILE ? Number(st.size) : 0,
      mtime: this.ctx.mtime ?? mtimeSeconds(st),
    };
    if (typeflag === TYPE_SYMLINK) h.linkname = readlinkSync(absPath, { encoding: "buffer" });
    if (typeflag === TYPE_CHAR || typeflag === TYPE_BLOCK) {
      const { major, minor } = deviceNumbers(st.rdev);
      h.devmajor = major;
      h.devminor = minor;
    }
    if (typeflag !== TYPE_SYMLINK) {
      const names = xattrNames ?? this.ctx.xattrs.names(absPath);
      if (names.includes(OVERRIDE_STAT_XATTR)) {
        const value = this.ctx.xattrs.value(absPath, OVERRIDE_STAT_XATTR);
        const what = `layer ${this.ctx.layerId}: ${name.toString("utf8")}`;
        const overridden = value ? applyOverrideStat(h, parseOverrideStat(value, what), what) : h;
        if (!overridden) return undefined;
        h = overridden;
      }
      const xattrs = this.ctx.xattrs.exported(absPath, names).filter(([k]) => this.writable(k));
      if (xattrs.length > 0) h.xattrs = xattrs;
    }
    // Ids on disk (or in override_stat) are host ids when the layer has a mapping.
    h.uid = this.ctx.mapper.uid(h.uid);
    h.gid = this.ctx.mapper.gid(h.gid);
    if (h.typeflag === TYPE_FILE && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.firstNameOfInode.get(key);
      if (first) {
        h.typeflag = TYPE_HARDLINK;
        h.linkname = first;
        h.size = 0;
      } else {
        this.firstNameOfInode.set(key, name);
      }
    }
    return h;
  }

  /**
   * entry() for a header readsAhead() accepts (callers check, so that small files skip an async
   * generator): the big file's content read ahead on the thread pool (see bigFileBatches), the same
   * bytes, the page-cache copy off the main thread.
   */
  async *entryReadAhead(absPath: Buffer | string, h: TarHeader): AsyncGenerator<Buffer> {
    yield* this.out.append(encodeTarHeader(h));
    const what = this.describe(absPath);
    const fd = openRegularContent(absPath, what);
    try {
      const read = yield* bigFileBatches(this.out, fd, h.size, what, this.ctx.signal);
      if (read !== h.size) throw shrank(what, h.size, read);
    } finally {
      closeSync(fd);
    }
    if (h.size % 512 !== 0) yield* this.out.zeros(512 - (h.size % 512));
  }

  /** The header's bytes, then (regular files) the content of `absPath` and its padding; yields each batch filled. */
  *entry(absPath: Buffer | string, h: TarHeader): Generator<Buffer> {
    yield* this.out.append(encodeTarHeader(h));
    if (h.typeflag !== TYPE_FILE || h.size === 0) return;
    const what = this.describe(absPath);
    const fd = openRegularContent(absPath, what);
    try {
      const signal = this.ctx.signal;
      const read = yield* this.out.readFile(fd, h.size, () => {
        if (signal?.aborted) throw new AbortedError(`${what}: aborted`);
      });
      if (read !== h.size) throw shrank(what, h.size, read);
    } finally {
      closeSync(fd);
    }
    if (h.size % 512 !== 0) yield* this.out.zeros(512 - (h.size % 512));
  }

  /** Bytes made elsewhere (a whiteout's header) into the tar; yields each batch filled. */
  raw(bytes: Buffer): Generator<Buffer> {
    return this.out.append(bytes);
  }

  private describe(absPath: Buffer | string): string {
    return `layer ${this.ctx.layerId}: ${typeof absPath === "string" ? absPath : absPath.toString("utf8")}`;
  }

  private writable(name: string): boolean {
    if (isWritableXattrName(name)) return true;
    if (!this.badXattrNames.has(name)) {
      this.badXattrNames.add(name);
      this.ctx.warn(`layer ${this.ctx.layerId}: xattr ${JSON.stringify(name)} cannot be written in a tar header; left out`);
    }
    return false;
  }
}
