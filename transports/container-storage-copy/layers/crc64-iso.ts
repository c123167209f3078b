// CRC-64 with the ISO 3309 polynomial, reflected, as Go's hash/crc64 computes it with
// MakeTable(crc64.ISO): tar-split records it (8 bytes, big-endian) for every file's content.
// JavaScript has no fast 64-bit integers, so each value is kept as two int32 halves (hi, lo)
// and the slicing-by-8 tables are split the same way, in one flat Int32Array (fast in V8).
import { endianness } from "node:os";

/** High 32 bits of the reflected ISO polynomial 0xD800000000000000 (the low 32 bits are 0). */
const POLY_HI = 0xd8000000 | 0;

/** Layout: table k (0..7) high halves at k*256, low halves at LO + k*256. */
const LO = 2048;
const TABLES = buildTables();
const LITTLE_ENDIAN = endianness() === "LE";

function buildTables(): Int32Array {
  const t = new Int32Array(4096);
  for (let i = 0; i < 256; i++) {
    let hi = 0;
    let lo = i;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = (lo >>> 1) | ((hi & 1) << 31);
      hi = hi >>> 1;
      if (carry) hi ^= POLY_HI;
    }
    t[i] = hi;
    t[LO + i] = lo;
  }
  // table k = table k-1 shifted by one more byte: next = prev >> 8 ^ table0[prev & 0xff]
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const pHi = t[(k - 1) * 256 + i] as number;
      const pLo = t[LO + (k - 1) * 256 + i] as number;
      const idx = pLo & 0xff;
      t[k * 256 + i] = (pHi >>> 8) ^ (t[idx] as number);
      t[LO + k * 256 + i] = ((pLo >>> 8) | (pHi << 24)) ^ (t[LO + idx] as number);
    }
  }
  return t;
}

/** An incremental CRC-64/ISO; `digest()` gives Go's `Sum(nil)`: 8 bytes, big-endian. */
export class Crc64Iso {
  // The running value, kept inverted between updates as Go does.
  private hi = -1;
  private lo = -1;

  update(data: Uint8Array): this {
    const t = TABLES;
    let hi = this.hi;
    let lo = this.lo;
    const n = data.length;
    let i = 0;
    // Bytewise until the data is 4-byte aligned, so whole words can be read through a typed view.
    while (i < n && (data.byteOffset + i) % 4 !== 0) {
      const idx = (lo ^ (data[i] as number)) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ (t[LO + idx] as number);
      hi = (hi >>> 8) ^ (t[idx] as number);
      i++;
    }
    if (LITTLE_ENDIAN && n - i >= 8) {
      const words = new Int32Array(data.buffer, data.byteOffset + i, (n - i) >>> 2);
      const end = words.length & ~1;
      for (let w = 0; w < end; w += 2) {
        lo ^= words[w] as number;
        hi ^= words[w + 1] as number;
        const a = lo & 0xff, b = (lo >>> 8) & 0xff, c = (lo >>> 16) & 0xff, d = lo >>> 24;
        const e = hi & 0xff, f = (hi >>> 8) & 0xff, g = (hi >>> 16) & 0xff, h = hi >>> 24;
        const nhi = (t[1792 + a] as number) ^ (t[1536 + b] as number) ^ (t[1280 + c] as number) ^ (t[1024 + d] as number) ^
          (t[768 + e] as number) ^ (t[512 + f] as number) ^ (t[256 + g] as number) ^ (t[h] as number);
        const nlo = (t[LO + 1792 + a] as number) ^ (t[LO + 1536 + b] as number) ^ (t[LO + 1280 + c] as number) ^ (t[LO + 1024 + d] as number) ^
          (t[LO + 768 + e] as number) ^ (t[LO + 512 + f] as number) ^ (t[LO + 256 + g] as number) ^ (t[LO + h] as number);
        hi = nhi;
        lo = nlo;
      }
      i += end * 4;
    }
    for (; i < n; i++) {
      const idx = (lo ^ (data[i] as number)) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ (t[LO + idx] as number);
      hi = (hi >>> 8) ^ (t[idx] as number);
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  /** The checksum as 8 bytes, big-endian (what tar-split stores, base64-encoded). */
  digest(): Buffer {
    const out = Buffer.alloc(8);
    out.writeInt32BE(~this.hi, 0);
    out.writeInt32BE(~this.lo, 4);
    return out;
  }
}

/** CRC-64/ISO of `data` as 8 big-endian bytes. */
export function crc64Iso(data: Uint8Array): Buffer {
  return new Crc64Iso().update(data).digest();
}
