// An index of a tar file's entries, built by reading only the headers (content is skipped with
// positioned reads), so entries can later be served as byte ranges of the file.
import { open, type FileHandle } from "node:fs/promises";
import { posix } from "node:path";
import { CorruptInputError, NotFoundError, describeFsError } from "../../src/errors.js";
import { BLOCK, TarFormatError, decodeTarHeader, isZeroBlock, parsePaxRecords } from "./tar-header.js";

export interface TarEntry {
  /** Normalised: no leading "./" or "/", no trailing "/". */
  name: string;
  type: "file" | "symlink" | "hardlink" | "directory" | "other";
  /** Offset of the first content byte in the file. */
  offset: number;
  size: number;
  linkname: string;
  headerOffset: number;
}

const MAX_EXTENDED_HEADER = 1024 * 1024;
const MAX_LINK_HOPS = 32;

/** "./a//b/" -> "a/b". */
export function normalizeEntryName(name: string): string {
  const cleaned = posix.normalize(name).replace(/^(?:\.\/|\/)+/, "").replace(/\/+$/, "");
  return cleaned === "." ? "" : cleaned;
}

export class TarIndex {
  private constructor(
    /** The file the offsets refer to. */
    readonly path: string,
    /** How errors name the archive (the user's path, not a spool file). */
    readonly label: string,
    private readonly entries: Map<string, TarEntry>,
    /** Where the archive ended without its end-of-archive blocks (a missing entry may mean it was cut short); undefined when it had them. */
    readonly unmarkedEnd: number | undefined,
  ) {}

  /** Scans `path`; `label` names the archive in errors. */
  static async scan(path: string, label: string): Promise<TarIndex> {
    let fh: FileHandle;
    try {
      fh = await open(path, "r");
    } catch (err) {
      throw describeFsError(err, label);
    }
    try {
      const { size } = await fh.stat();
      const { entries, unmarkedEnd } = await scanEntries(fh, size, label);
      return new TarIndex(path, label, entries, unmarkedEnd);
    } catch (err) {
      throw describeFsError(err, label);
    } finally {
      await fh.close();
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  get(name: string): TarEntry | undefined {
    return this.entries.get(normalizeEntryName(name));
  }

  /** The regular file that `name` is, or links to; NotFoundError when there is none. */
  resolve(name: string): TarEntry {
    let current = normalizeEntryName(name);
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const entry = this.entries.get(current);
      if (!entry) throw new NotFoundError(`${this.label}: no entry ${JSON.stringify(name)} in the archive`);
      if (entry.type === "file") return entry;
      if (entry.type === "symlink") {
        const base = entry.linkname.startsWith("/") ? "" : posix.dirname(entry.name);
        current = normalizeEntryName(posix.join(base, entry.linkname));
      } else if (entry.type === "hardlink") {
        current = normalizeEntryName(entry.linkname);
      } else {
        throw new CorruptInputError(`${this.label}: entry ${JSON.stringify(name)} is not a regular file`);
      }
    }
    throw new CorruptInputError(`${this.label}: entry ${JSON.stringify(name)}: too many levels of links`);
  }

  /** Reads a (small) entry whole; `limit` guards against a hostile size. */
  async read(entry: TarEntry, limit: number): Promise<Buffer> {
    if (entry.size > limit) {
      throw new CorruptInputError(`${this.label}: entry ${JSON.stringify(entry.name)} is ${entry.size} bytes, more than the ${limit} allowed`);
    }
    let fh: FileHandle | undefined;
    try {
      fh = await open(this.path, "r");
      return await readExactly(fh, entry.offset, entry.size, this.label);
    } catch (err) {
      throw describeFsError(err, this.label);
    } finally {
      await fh?.close();
    }
  }
}

async function readExactly(fh: FileHandle, offset: number, length: number, label: string): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
    if (bytesRead === 0) throw new CorruptInputError(`${label}: truncated archive: unexpected end of file at offset ${offset + done}`);
    done += bytesRead;
  }
  return buf;
}

interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
}

async function scanEntries(fh: FileHandle, fileSize: number, label: string): Promise<{ entries: Map<string, TarEntry>; unmarkedEnd?: number }> {
  const entries = new Map<string, TarEntry>();
  const corrupt = (offset: number, why: string): CorruptInputError =>
    new CorruptInputError(`${label}: ${why} at offset ${offset}`);
  let pending: Pending = {};
  let offset = 0;
  while (true) {
    const pendingHeader = pending.path !== undefined || pending.size !== undefined || pending.linkpath !== undefined;
    // No end-of-archive blocks (or the last entry's padding missing) while every entry is whole:
    // skopeo, podman and GNU tar read it, so do we.
    if (offset >= fileSize && !pendingHeader) return { entries, unmarkedEnd: fileSize };
    if (offset + BLOCK > fileSize) {
      throw corrupt(offset, offset >= fileSize ? "truncated archive: extended header not followed by an entry" : "truncated archive: partial header");
    }
    const block = await readExactly(fh, offset, BLOCK, label);
    if (isZeroBlock(block)) {
      if (pending.path !== undefined || pending.size !== undefined || pending.linkpath !== undefined) {
        throw corrupt(offset, "extended header not followed by an entry");
      }
      return { entries };
    }
    let header;
    try {
      header = decodeTarHeader(block);
    } catch (err) {
      if (err instanceof TarFormatError) throw corrupt(offset, `malformed tar header (${err.message})`);
      throw err;
    }
    const hasContent = !"123456".includes(header.typeflag);
    const isMeta = "xgLK".includes(header.typeflag);
    const size = !hasContent ? 0 : isMeta ? header.size : (pending.size ?? header.size);
    const dataStart = offset + BLOCK;
    if (dataStart + size > fileSize) {
      throw corrupt(offset, `truncated archive: entry ${JSON.stringify(pending.path ?? header.name)} needs ${size} bytes, the file ends ${fileSize - dataStart} bytes later`);
    }
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    const readContent = async (): Promise<Buffer> => {
      if (size > MAX_EXTENDED_HEADER) throw corrupt(offset, `extended header of ${size} bytes is too large`);
      return readExactly(fh, dataStart, size, label);
    };
    switch (header.typeflag) {
      case "x": {
        let records;
        try {
          records = parsePaxRecords(await readContent());
        } catch (err) {
          if (err instanceof TarFormatError) throw corrupt(offset, err.message);
          throw err;
        }
        const paxSize = records.get("size");
        if (paxSize !== undefined) {
          if (!/^[0-9]+$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) throw corrupt(offset, `PAX size ${JSON.stringify(paxSize)} is not valid`);
          pending.size = Number(paxSize);
        }
        if (records.has("path")) pending.path = records.get("path");
        if (records.has("linkpath")) pending.linkpath = records.get("linkpath");
        break;
      }
      case "g":
        break; // global PAX headers carry nothing an image reader needs
      case "L":
        pending.path = cString(await readContent());
        break;
      case "K":
        pending.linkpath = cString(await readContent());
        break;
      default: {
        const name = normalizeEntryName(pending.path ?? header.name);
        const linkname = pending.linkpath ?? header.linkname;
        pending = {};
        if (name !== "") {
          entries.set(name, { name, type: entryType(header.typeflag), offset: dataStart, size, linkname, headerOffset: offset });
        }
      }
    }
    offset = next;
  }
}

function entryType(flag: string): TarEntry["type"] {
  switch (flag) {
    case "0":
    case "7":
      return "file";
    case "1":
      return "hardlink";
    case "2":
      return "symlink";
    case "5":
      return "directory";
    default:
      return "other";
  }
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString("utf8", 0, end >= 0 ? end : buf.length);
}
