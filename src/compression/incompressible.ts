// Finding the stretches of a gzip block that deflate cannot shrink (random or already compressed
// bytes), and writing those as stored deflate blocks instead of spending a deflate pass on them.
// zlib at level 4 runs ~45 MB/s over random bytes for an output 0.03% BIGGER than its input; a copy
// into stored blocks runs at memory speed and costs 5 bytes per 64 KiB (RFC 1951 section 3.2.4).

/** The unit of the decision: a sub-block is stored or deflated as a whole. */
export const SUB_BLOCK = 64 * 1024;
/** Sub-blocks shorter than this (the end of a stream) are always deflated: too few bytes to judge. */
const MIN_JUDGED = 16 * 1024;
/** The sample: this many stripes of STRIPE bytes, spread evenly over the sub-block (4 KiB of 64). */
const STRIPES = 16;
const STRIPE = 256;
/**
 * Bits per byte of the sample's byte histogram above which a sub-block is stored. A sample of 4096
 * random bytes measures ~7.95 (a small sample under-estimates); text measures 4-5.5, locale catalogs
 * and binaries 4-6.5. Above 7.9 bits Huffman coding could save at most ~1.3%, and deflate finds next
 * to no repeated strings in such bytes either.
 */
const STORED_ABOVE_BITS = 7.9;

/** A stretch [start, end) of a block, stored or to deflate. */
export interface BlockRun {
  start: number;
  end: number;
  stored: boolean;
}

const counts = new Uint32Array(256);
/** n·log2(n) for every count a sample can reach. */
const N_LOG_N = Float64Array.from({ length: STRIPES * STRIPE + 1 }, (_, n) => (n > 0 ? n * Math.log2(n) : 0));

/** The order-0 entropy (bits per byte) of a sample of `data[start, end)`. */
export function sampledEntropy(data: Uint8Array, start: number, end: number): number {
  counts.fill(0);
  const step = Math.floor((end - start) / STRIPES);
  let sampled = 0;
  for (let stripe = 0; stripe < STRIPES; stripe++) {
    const from = start + stripe * step;
    const to = Math.min(from + STRIPE, end);
    for (let i = from; i < to; i++) counts[data[i]!]!++;
    sampled += to - from;
  }
  let sum = 0;
  for (let b = 0; b < 256; b++) sum += N_LOG_N[counts[b]!]!;
  return Math.log2(sampled) - sum / sampled;
}

/**
 * The block cut into runs of sub-blocks, each run stored or deflated; neighbouring sub-blocks of the
 * same kind are one run. Depends on the bytes only, so the output is the same whatever the chunking.
 */
export function planRuns(block: Uint8Array): BlockRun[] {
  const runs: BlockRun[] = [];
  for (let start = 0; start < block.length; start += SUB_BLOCK) {
    const end = Math.min(start + SUB_BLOCK, block.length);
    const stored = end - start >= MIN_JUDGED && sampledEntropy(block, start, end) > STORED_ABOVE_BITS;
    const previous = runs[runs.length - 1];
    if (previous && previous.stored === stored) previous.end = end;
    else runs.push({ start, end, stored });
  }
  return runs;
}

/** The most a stored block holds (its LEN field is 16 bits). */
const STORED_MAX = 0xffff;

/**
 * `data` as stored deflate blocks (header bits 00, byte-aligned, LEN, NLEN, the bytes), the last one
 * marked final when `final`. The stream must be at a byte boundary before them: it is, after a
 * sync-flushed deflate or other stored blocks. Empty data gives one empty stored block.
 */
export function storedBlocks(data: Uint8Array, final: boolean): Buffer {
  const count = Math.max(1, Math.ceil(data.length / STORED_MAX));
  const out = Buffer.allocUnsafe(data.length + 5 * count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const piece = data.subarray(i * STORED_MAX, (i + 1) * STORED_MAX);
    out[at] = final && i === count - 1 ? 1 : 0; // BFINAL, BTYPE 00 (stored); the rest of the byte is padding
    out.writeUInt16LE(piece.length, at + 1);
    out.writeUInt16LE(~piece.length & 0xffff, at + 3);
    out.set(piece, at + 5);
    at += 5 + piece.length;
  }
  return out;
}
