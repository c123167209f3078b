// Tar headers as containers/storage writes them (Go's archive/tar with an unset format): USTAR
// when the entry fits (long ASCII names split into prefix/name), else a PAX extended header named
// "<dir>/PaxHeaders.0/<base>" followed by the main header. Same bytes for the same entry, always.
// A diff encodes one header per changed entry, too few calls for the JIT to optimize well: the
// byte loops are indexed (an iterator per byte cost ~30 us a header) and the ASCII test is native.
import { isAscii } from "node:buffer";

export const BLOCK = 512;

export const TYPE_FILE = 0x30; // '0'
export const TYPE_HARDLINK = 0x31; // '1'
export const TYPE_SYMLINK = 0x32; // '2'
export const TYPE_CHAR = 0x33; // '3'
export const TYPE_BLOCK = 0x34; // '4'
export const TYPE_DIR = 0x35; // '5'
export const TYPE_FIFO = 0x36; // '6'
const TYPE_PAX = 0x78; // 'x'

export interface TarHeader {
  /** Path inside the layer, no leading "/" or "./"; directories end with "/". */
  name: Buffer;
  typeflag: number;
  /** Permission, setuid/setgid/sticky and file-type bits, as containers/storage writes them. */
  mode: number;
  uid: number;
  gid: number;
  /** Content bytes that follow the header (regular files only). */
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  linkname?: Buffer;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, sorted by name; written as PAX SCHILY.xattr.<name>. */
  xattrs?: ReadonlyArray<readonly [string, Buffer]>;
}

const NAME_SIZE = 100;
const PREFIX_SIZE = 155;

/** Go's toASCII: drops every byte of a non-ASCII character (and NULs). */
function toAscii(b: Buffer): Buffer {
  return isAscii(b) ? b : Buffer.from(b.filter((c) => c < 0x80 && c !== 0));
}

function fitsOctal(field: number, n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0 && n < 8 ** (field - 1);
}

/** Go's splitUSTARPath: a name over 100 bytes split at a "/" into prefix (<= 155) and name (<= 100). */
function splitUstarPath(name: Buffer): { prefix: Buffer; rest: Buffer } | undefined {
  let length = name.length;
  if (length <= NAME_SIZE || !isAscii(name)) return undefined;
  if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
  else if (name[length - 1] === 0x2f) length--;
  const i = name.subarray(0, length).lastIndexOf(0x2f);
  const nlen = name.length - i - 1;
  if (i <= 0 || nlen > NAME_SIZE || nlen === 0 || i > PREFIX_SIZE) return undefined;
  return { prefix: name.subarray(0, i), rest: name.subarray(i + 1) };
}

function putString(block: Buffer, offset: number, size: number, value: Buffer): void {
  value.copy(block, offset, 0, Math.min(size, value.length));
  // Go: a truncated name must not end with "/" in the V7 field, or old readers see a directory.
  if (value.length > size && block[offset + size - 1] === 0x2f) {
    let n = size - 1;
    while (n > 0 && block[offset + n - 1] === 0x2f) n--;
    block[offset + n] = 0;
  }
}

/** `size - 1` octal digits, zero-padded (the last byte stays NUL). */
function putOctal(block: Buffer, offset: number, size: number, n: number): void {
  let v = fitsOctal(size, n) ? n : 0;
  for (let i = offset + size - 2; i >= offset; i--) {
    block[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
}

/** Base-256 (GNU) for a number that octal cannot hold; every common reader accepts it. */
function putBase256(block: Buffer, offset: number, size: number, n: number): void {
  let v = BigInt(n);
  for (let i = size - 1; i > 0; i--) {
    block[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  block[offset] = 0x80;
}

function putNumber(block: Buffer, offset: number, size: number, n: number): void {
  if (fitsOctal(size, n)) putOctal(block, offset, size, n);
  else putBase256(block, offset, size, n);
}

function finish(block: Buffer): Buffer {
  block.write("ustar\x0000", 257, 8, "latin1");
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i] as number;
  block.write(sum.toString(8).padStart(6, "0") + "\x00 ", 148, 8, "latin1");
  return block;
}

/** One PAX record "<len> <key>=<value>\n", where <len> counts the whole record. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, "utf8"), value, Buffer.from("\n")]);
  let size = body.length + String(body.length).length;
  if (String(size).length + body.length !== size) size = String(size).length + body.length;
  return Buffer.concat([Buffer.from(String(size), "latin1"), body]);
}

function paxHeaderName(name: Buffer): Buffer {
  // Go: path.Join(dir, "PaxHeaders.0", base) of the entry's name, ASCII only, at most 100 bytes
  const slash = name.lastIndexOf(0x2f);
  const parts = [name.subarray(0, Math.max(slash, 0)), Buffer.from("PaxHeaders.0"), name.subarray(slash + 1)];
  const joined = Buffer.concat(parts.filter((p) => p.length > 0).flatMap((p, i) => (i === 0 ? [p] : [Buffer.from("/"), p])));
  let out = toAscii(joined);
  if (out.length > NAME_SIZE) out = out.subarray(0, NAME_SIZE);
  let end = out.length;
  while (end > 0 && out[end - 1] === 0x2f) end--;
  return out.subarray(0, end);
}

/** A zeroed block, cut from Node's shared pool (a new ArrayBuffer per header cost more than the header). */
function zeroBlock(): Buffer {
  return Buffer.allocUnsafe(BLOCK).fill(0);
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The header block(s) for one entry: 512 bytes, or a PAX header plus its data plus 512. */
export function encodeTarHeader(h: TarHeader): Buffer {
  const pax = new Map<string, Buffer>();
  let ustar = true;
  const linkname = h.linkname ?? Buffer.alloc(0);

  if (h.name.length > NAME_SIZE || !isAscii(h.name)) {
    if (!splitUstarPath(h.name)) ustar = false;
    pax.set("path", h.name);
  }
  if (linkname.length > NAME_SIZE || !isAscii(linkname)) {
    ustar = false;
    pax.set("linkpath", linkname);
  }
  for (const [key, field, value] of [["uid", 8, h.uid], ["gid", 8, h.gid], ["size", 12, h.size], ["mtime", 12, h.mtime]] as const) {
    if (!fitsOctal(field, value)) {
      ustar = false;
      pax.set(key, Buffer.from(String(value), "latin1"));
    }
  }
  if (h.xattrs && h.xattrs.length > 0) {
    ustar = false;
    for (const [key, value] of h.xattrs) pax.set(`SCHILY.xattr.${key}`, value);
  }

  const block = zeroBlock();
  let name = h.name;
  if (ustar) {
    const split = splitUstarPath(h.name);
    if (split) {
      name = split.rest;
      putString(block, 345, PREFIX_SIZE, split.prefix);
    }
  } else {
    name = toAscii(h.name);
  }
  putString(block, 0, NAME_SIZE, name);
  putOctal(block, 100, 8, h.mode);
  putOctal(block, 108, 8, h.uid);
  putOctal(block, 116, 8, h.gid);
  putOctal(block, 124, 12, h.size);
  putOctal(block, 136, 12, h.mtime);
  block[156] = h.typeflag;
  putString(block, 157, NAME_SIZE, ustar ? linkname : toAscii(linkname));
  putNumber(block, 329, 8, h.devmajor ?? 0);
  putNumber(block, 337, 8, h.devminor ?? 0);
  finish(block);
  if (ustar) return block;

  const keys = [...pax.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const data = Buffer.concat(keys.map((k) => paxRecord(k, pax.get(k) as Buffer)));
  const paxBlock = zeroBlock();
  putString(paxBlock, 0, NAME_SIZE, paxHeaderName(h.name));
  putOctal(paxBlock, 100, 8, 0);
  putOctal(paxBlock, 108, 8, 0);
  putOctal(paxBlock, 116, 8, 0);
  putOctal(paxBlock, 124, 12, data.length);
  putOctal(paxBlock, 136, 12, 0);
  paxBlock[156] = TYPE_PAX;
  finish(paxBlock);
  return Buffer.concat([paxBlock, data, Buffer.alloc(padding(data.length)), block]);
}

/** Zero bytes that pad `size` content bytes to a whole block. */
export function contentPadding(size: number): Buffer {
  return Buffer.alloc(padding(size));
}

/** Go's tar.Writer.Close: two zero blocks, no padding to a record size. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

/** A PAX key Go refuses (empty, "=" or NUL in it): such an xattr cannot travel in a tar. */
export function isWritableXattrName(name: string): boolean {
  return name.length > 0 && !name.includes("=") && !name.includes("\0");
}
