// A deterministic USTAR writer: mtime 0, owner root (0:0), mode 0644; content streamed, never buffered.
import { IOError } from "../../src/errors.js";
import { BLOCK } from "./tar-header.js";

export interface TarWriteEntry {
  name: string;
  type: "file" | "symlink";
  /** Bytes of content (0 for a symlink). */
  size: number;
  linkname?: string;
  /** The content: bytes, or a function opening a stream of exactly `size` bytes. */
  content?: Uint8Array | (() => AsyncIterable<Buffer>);
}

const MAX_OCTAL_SIZE = 0o77777777777;

export function encodeTarHeader(entry: TarWriteEntry): Buffer {
  const block = Buffer.alloc(BLOCK);
  const { name, prefix } = splitName(entry.name);
  block.write(name, 0, 100, "utf8");
  writeOctal(block, 100, 8, entry.type === "symlink" ? 0o777 : 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeSize(block, entry.type === "symlink" ? 0 : entry.size);
  writeOctal(block, 136, 12, 0);
  block.fill(0x20, 148, 156);
  block.write(entry.type === "symlink" ? "2" : "0", 156, 1, "latin1");
  if (entry.linkname !== undefined) {
    if (Buffer.byteLength(entry.linkname) > 100) throw new IOError(`tar entry ${entry.name}: link target longer than 100 bytes`);
    block.write(entry.linkname, 157, 100, "utf8");
  }
  block.write("ustar\u000000", 257, 8, "latin1");
  block.write("root", 265, 32, "latin1");
  block.write("root", 297, 32, "latin1");
  writeOctal(block, 329, 8, 0);
  writeOctal(block, 337, 8, 0);
  block.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "latin1");
  return block;
}

/** The whole archive: each entry's header, content and padding, then the end-of-archive marker. */
export async function* tarChunks(entries: Iterable<TarWriteEntry>): AsyncGenerator<Buffer> {
  for (const entry of entries) yield* tarEntryChunks(entry);
  yield endOfArchive();
}

/** The two zero blocks that end an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

/** One entry: its header, content (checked to be exactly `size` bytes) and padding. */
export async function* tarEntryChunks(entry: TarWriteEntry): AsyncGenerator<Buffer> {
  yield encodeTarHeader(entry);
  if (entry.type === "symlink" || entry.size === 0) return;
  let written = 0;
  if (entry.content instanceof Uint8Array) {
    written = entry.content.length;
    yield Buffer.from(entry.content);
  } else if (entry.content) {
    for await (const chunk of entry.content()) {
      written += chunk.length;
      if (written > entry.size) break;
      yield chunk;
    }
  }
  if (written !== entry.size) {
    throw new IOError(`tar entry ${entry.name}: expected ${entry.size} bytes of content, got ${written > entry.size ? "more" : written}`);
  }
  const pad = (BLOCK - (entry.size % BLOCK)) % BLOCK;
  if (pad > 0) yield Buffer.alloc(pad);
}

function splitName(full: string): { name: string; prefix: string } {
  if (Buffer.byteLength(full) <= 100) return { name: full, prefix: "" };
  for (let i = full.indexOf("/"); i > 0; i = full.indexOf("/", i + 1)) {
    const prefix = full.slice(0, i);
    const name = full.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new IOError(`tar entry name ${JSON.stringify(full)} does not fit a USTAR header`);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, offset, length, "latin1");
}

/** Sizes above 8 GiB use the base-256 form every tar reader in this ecosystem accepts. */
function writeSize(block: Buffer, size: number): void {
  if (size <= MAX_OCTAL_SIZE) {
    writeOctal(block, 124, 12, size);
    return;
  }
  let value = BigInt(size);
  for (let i = 124 + 11; i > 124; i--) {
    block[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  block[124] = 0x80;
}
