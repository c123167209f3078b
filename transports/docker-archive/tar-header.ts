// Decoding one 512-byte tar header (v7, ustar, GNU) and PAX extended-header records.

export const BLOCK = 512;

export interface TarHeader {
  /** The name field, with the ustar prefix applied. */
  name: string;
  mode: number;
  size: number;
  /** "0" for a regular file (a NUL typeflag is reported as "0"). */
  typeflag: string;
  linkname: string;
}

/** Why a header is not valid; the caller adds the archive and offset. */
export class TarFormatError extends Error {}

export function isZeroBlock(block: Uint8Array): boolean {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}

export function decodeTarHeader(block: Buffer): TarHeader {
  verifyChecksum(block);
  const magic = block.toString("latin1", 257, 263);
  let name = cString(block, 0, 100);
  // Only POSIX ustar has the prefix field; GNU keeps other data in those bytes.
  if (magic === "ustar\0") {
    const prefix = cString(block, 345, 155);
    if (prefix !== "") name = `${prefix}/${name}`;
  }
  const flag = String.fromCharCode(block[156] ?? 0);
  return {
    name,
    mode: parseNumber(block, 100, 8, "mode"),
    size: parseNumber(block, 124, 12, "size"),
    typeflag: flag === "\0" ? "0" : flag,
    linkname: cString(block, 157, 100),
  };
}

function verifyChecksum(block: Buffer): void {
  const stored = parseNumber(block, 148, 8, "checksum");
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError(`bad header checksum (stored ${stored}, computed ${unsigned})`);
  }
}

function cString(block: Buffer, start: number, length: number): string {
  const end = block.indexOf(0, start);
  return block.toString("utf8", start, end >= 0 && end < start + length ? end : start + length);
}

/** An octal field, or GNU base-256 when the high bit of the first byte is set. */
function parseNumber(block: Buffer, start: number, length: number, field: string): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    if (first === 0xff) throw new TarFormatError(`negative ${field} field`);
    let value = BigInt(first & 0x7f);
    for (let i = start + 1; i < start + length; i++) value = (value << 8n) | BigInt(block[i] ?? 0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarFormatError(`${field} field too large`);
    return Number(value);
  }
  const text = block.toString("latin1", start, start + length).replace(/[\0 ]+$/, "").replace(/^ +/, "");
  const digits = text.split("\0")[0] ?? "";
  if (digits === "") return 0;
  if (!/^[0-7]+$/.test(digits)) throw new TarFormatError(`${field} field ${JSON.stringify(text)} is not an octal number`);
  return parseInt(digits, 8);
}

/** Parses PAX records ("<len> <key>=<value>\n" ...). */
export function parsePaxRecords(content: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < content.length) {
    if (content[pos] === 0) break; // NUL padding after the last record
    const space = content.indexOf(0x20, pos);
    const lenText = space > pos ? content.toString("latin1", pos, space) : "";
    const len = /^[0-9]+$/.test(lenText) ? parseInt(lenText, 10) : NaN;
    if (!(len > 0) || pos + len > content.length || content[pos + len - 1] !== 0x0a) {
      throw new TarFormatError(`malformed PAX record at byte ${pos} of the extended header`);
    }
    const record = content.toString("utf8", space + 1, pos + len - 1);
    const eq = record.indexOf("=");
    if (eq <= 0) throw new TarFormatError(`malformed PAX record ${JSON.stringify(record.slice(0, 40))}`);
    records.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return records;
}
