// A read-only BoltDB (bbolt) reader for podman 4's libpod/bolt_state.db: meta page chosen by
// checksum and txid, branch/leaf pages, nested and inline buckets, overflow pages. Every offset is
// checked against the page and the file, so a corrupt or truncated file is refused, never misread.
import { readFile } from "node:fs/promises";
import { CorruptInputError, describeFsError } from "../../../src/errors.js";

const MAGIC = 0xed0cdaed;
const VERSION = 2;
const PAGE_HEADER = 16;
const ELEMENT = 16;
const META_SIZE = 64;
const BRANCH = 0x01;
const LEAF = 0x02;
const META = 0x04;
const BUCKET_LEAF_FLAG = 0x01;
/** Deeper than any real tree (a B+tree of 2^64 keys is < 64 levels): anything past it is a cycle. */
const MAX_DEPTH = 64;
/** Page sizes bbolt uses (the OS page size); tried for page 1 when page 0's meta is damaged. */
const PAGE_SIZES = [4096, 8192, 16384, 65536];

/** Thrown inside the reader; BoltDb.open turns it into one line naming the file. */
class BoltFormatError extends Error {}

function fail(why: string): never {
  throw new BoltFormatError(why);
}

function u64(buf: Buffer, off: number): number {
  if (off < 0 || off + 8 > buf.length) fail(`read past the end at ${off}`);
  const v = buf.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`value ${v} at ${off} is out of range`);
  return Number(v);
}

function u32(buf: Buffer, off: number): number {
  if (off < 0 || off + 4 > buf.length) fail(`read past the end at ${off}`);
  return buf.readUInt32LE(off);
}

/** FNV-1a 64-bit, bbolt's meta checksum. */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

interface Meta {
  pageSize: number;
  root: number;
  /** The high-water mark: every page in use is below it. */
  pgid: number;
  txid: number;
}

/** The meta at `off` (a page's start), or the reason it is not valid. */
function readMeta(buf: Buffer, off: number): Meta | string {
  const m = off + PAGE_HEADER;
  if (m + META_SIZE > buf.length) return "too short for a meta page";
  if (!(buf.readUInt16LE(off + 8) & META)) return "not a meta page";
  if (buf.readUInt32LE(m) !== MAGIC) return "bad magic";
  if (buf.readUInt32LE(m + 4) !== VERSION) return `version ${buf.readUInt32LE(m + 4)}, not ${VERSION}`;
  if (fnv1a64(buf.subarray(m, m + 56)) !== buf.readBigUInt64LE(m + 56)) return "checksum mismatch";
  try {
    const pageSize = u32(buf, m + 8);
    if (pageSize < 1024 || pageSize > 1 << 20 || (pageSize & (pageSize - 1)) !== 0) return `page size ${pageSize}`;
    return { pageSize, root: u64(buf, m + 16), pgid: u64(buf, m + 40), txid: u64(buf, m + 48) };
  } catch (err) {
    return (err as Error).message;
  }
}

/** One entry of a bucket: a key with a value, or a nested bucket. */
export interface BoltEntry {
  key: Buffer;
  /** The value; for a nested bucket, its 16-byte header (and inline page). */
  value: Buffer;
  isBucket: boolean;
}

/** A bucket: its root page in the file, or an inline page held in its parent's value. */
export class BoltBucket {
  constructor(
    private readonly db: BoltDb,
    private readonly root: number,
    private readonly inline: Buffer | undefined,
  ) {}

  /** Every entry in key order. `seen`: pages already walked (a page met twice means a damaged file). */
  entries(seen: Set<number> = new Set()): BoltEntry[] {
    const out: BoltEntry[] = [];
    if (this.inline) this.db.collect(this.inline, 0, out, seen);
    else this.db.collect(undefined, this.root, out, seen);
    return out;
  }

  /** The value stored under `key` (not a bucket), or undefined. */
  get(key: string): Buffer | undefined {
    const e = this.find(key);
    return e && !e.isBucket ? e.value : undefined;
  }

  /** The nested bucket named `key`, or undefined. */
  bucket(key: string): BoltBucket | undefined {
    const e = this.find(key);
    return e?.isBucket ? this.db.bucketFrom(e.value) : undefined;
  }

  private find(key: string): BoltEntry | undefined {
    const k = Buffer.from(key, "utf8");
    return this.entries().find((e) => e.key.equals(k));
  }
}

export class BoltDb {
  private constructor(
    private readonly buf: Buffer,
    private readonly meta: Meta,
  ) {}

  /** Reads and checks the file; a file that is not a sound BoltDB gives one CorruptInputError naming it. */
  static async open(path: string): Promise<BoltDb> {
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (err) {
      throw describeFsError(err, path);
    }
    return BoltDb.fromBuffer(buf, path);
  }

  static fromBuffer(buf: Buffer, path: string): BoltDb {
    try {
      const db = new BoltDb(buf, chooseMeta(buf));
      // Walk the whole tree once now, so that damage anywhere is found before anything is trusted.
      db.checkAll(db.root(), 0, new Set());
      return db;
    } catch (err) {
      if (err instanceof BoltFormatError || err instanceof RangeError) {
        throw new CorruptInputError(`${path}: not a readable BoltDB file (corrupt or truncated: ${err.message})`, { cause: err });
      }
      throw err;
    }
  }

  get txid(): number {
    return this.meta.txid;
  }

  /** The root bucket, whose entries are the top-level buckets. */
  root(): BoltBucket {
    return new BoltBucket(this, this.meta.root, undefined);
  }

  /** @internal A nested bucket from its header value (root u64, sequence u64[, inline page]). */
  bucketFrom(value: Buffer): BoltBucket {
    if (value.length < 16) fail(`bucket header of ${value.length} bytes`);
    const root = u64(value, 0);
    if (root !== 0) return new BoltBucket(this, root, undefined);
    const inline = value.subarray(16);
    if (inline.length < PAGE_HEADER) fail("inline bucket shorter than a page header");
    return new BoltBucket(this, 0, inline);
  }

  /** @internal Appends the entries under a page (a file page, or the inline page `inline`) in key order. */
  collect(inline: Buffer | undefined, pgid: number, out: BoltEntry[], seen: Set<number>, depth = 0): void {
    if (depth > MAX_DEPTH) fail(`tree deeper than ${MAX_DEPTH} levels (a cycle?)`);
    if (!inline) {
      // Each page belongs to one place in the tree: a second visit is a cycle or a shared page.
      if (seen.has(pgid)) fail(`page ${pgid} is referenced twice`);
      seen.add(pgid);
    }
    const page = inline ?? this.page(pgid);
    const flags = page.readUInt16LE(8);
    const count = page.readUInt16LE(10);
    if (PAGE_HEADER + count * ELEMENT > page.length) fail(`page ${pgid}: ${count} elements do not fit`);
    if (flags & BRANCH) {
      if (inline) fail("inline bucket with a branch page");
      for (let i = 0; i < count; i++) {
        const child = u64(page, PAGE_HEADER + i * ELEMENT + 8);
        this.collect(undefined, child, out, seen, depth + 1);
      }
      return;
    }
    if (!(flags & LEAF)) fail(`page ${pgid}: flags 0x${flags.toString(16)} is neither branch nor leaf`);
    for (let i = 0; i < count; i++) {
      const at = PAGE_HEADER + i * ELEMENT;
      const elemFlags = u32(page, at);
      const pos = u32(page, at + 4);
      const ksize = u32(page, at + 8);
      const vsize = u32(page, at + 12);
      const start = at + pos;
      if (start + ksize + vsize > page.length) fail(`page ${pgid}: element ${i} runs past the page`);
      out.push({
        key: page.subarray(start, start + ksize),
        value: page.subarray(start + ksize, start + ksize + vsize),
        isBucket: (elemFlags & BUCKET_LEAF_FLAG) !== 0,
      });
    }
  }

  /** A page with its overflow pages, checked against the file and the high-water mark. */
  private page(pgid: number): Buffer {
    const { pageSize, pgid: hwm } = this.meta;
    if (pgid < 2 || pgid >= hwm) fail(`page ${pgid} is outside the data pages (2..${hwm - 1})`);
    const off = pgid * pageSize;
    if (off + PAGE_HEADER > this.buf.length) fail(`page ${pgid} is past the end of the file (${this.buf.length} bytes)`);
    if (u64(this.buf, off) !== pgid) fail(`page ${pgid} says it is page ${u64(this.buf, off)}`);
    const overflow = u32(this.buf, off + 12);
    const end = off + (overflow + 1) * pageSize;
    if (pgid + overflow >= hwm || end > this.buf.length) fail(`page ${pgid} with ${overflow} overflow pages runs past the end of the file`);
    return this.buf.subarray(off, end);
  }

  /** Walks every bucket with one `seen` set: every page at most once, so a damaged file cannot make it loop. */
  private checkAll(bucket: BoltBucket, depth: number, seen: Set<number>): void {
    if (depth > MAX_DEPTH) fail(`buckets nested deeper than ${MAX_DEPTH} levels`);
    for (const e of bucket.entries(seen)) if (e.isBucket) this.checkAll(this.bucketFrom(e.value), depth + 1, seen);
  }
}

function chooseMeta(buf: Buffer): Meta {
  if (buf.length < PAGE_HEADER + META_SIZE) fail(`${buf.length} bytes is too short`);
  const m0 = readMeta(buf, 0);
  const sizes = typeof m0 === "string" ? PAGE_SIZES : [m0.pageSize];
  let m1: Meta | string = "missing";
  for (const size of sizes) {
    m1 = readMeta(buf, size);
    if (typeof m1 !== "string") break;
  }
  if (typeof m0 === "string" && typeof m1 === "string") fail(`no valid meta page (page 0: ${m0}; page 1: ${m1})`);
  // bbolt takes the valid meta with the higher txid: the other may be from an interrupted write.
  const meta = typeof m0 === "string" ? (m1 as Meta) : typeof m1 === "string" ? m0 : m1.txid > m0.txid ? m1 : m0;
  if (meta.pgid * meta.pageSize > buf.length) fail(`the file has ${buf.length} bytes, less than its ${meta.pgid} pages of ${meta.pageSize}`);
  return meta;
}
