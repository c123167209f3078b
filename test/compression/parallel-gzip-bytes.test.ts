// ParallelGzip's exact output bytes against a serial encoder built from zlib's synchronous deflate:
// whatever runs the blocks (libuv's pool today) and however the input is chunked, the member must be
// byte for byte what one thread deflating the blocks in order writes. Blob digests depend on it.
import assert from "node:assert/strict";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, it } from "node:test";
import { constants, crc32, deflateRawSync, gunzipSync } from "node:zlib";
import { planRuns, storedBlocks } from "../../src/compression/incompressible.js";
import { ParallelGzip } from "../../src/compression/parallel-gzip.js";

// The format ParallelGzip promises (change these only with its output on purpose).
const BLOCK = 1 << 20;
const WINDOW = 32 * 1024;
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
const DEFLATE = { memLevel: 9, chunkSize: 256 * 1024 };

function deflatePart(data: Buffer, level: number, final: boolean, dictionary: Buffer | undefined): Buffer {
  const finishFlush = final ? constants.Z_FINISH : constants.Z_SYNC_FLUSH;
  return deflateRawSync(data, { ...DEFLATE, level, finishFlush, ...(dictionary && dictionary.length > 0 ? { dictionary } : {}) });
}

/**
 * One gzip member: 1 MiB blocks in order, each primed with the 32 KiB before it, incompressible runs
 * stored; full blocks end with a sync flush and the rest (maybe nothing) is the final block.
 */
function serialGzip(input: Buffer, level: number): Buffer {
  const parts: Buffer[] = [HEADER];
  const count = Math.floor(input.length / BLOCK) + 1;
  for (let i = 0; i < count; i++) {
    const block = input.subarray(i * BLOCK, (i + 1) * BLOCK);
    const last = i === count - 1;
    const before = i === 0 ? undefined : input.subarray(i * BLOCK - WINDOW, i * BLOCK);
    const runs = planRuns(block);
    if (runs.length > 1 || runs[0]?.stored === true) {
      runs.forEach((run, r) => {
        const final = last && r === runs.length - 1;
        const data = block.subarray(run.start, run.end);
        const dictionary = run.start === 0 ? before : block.subarray(Math.max(0, run.start - WINDOW), run.start);
        parts.push(run.stored ? storedBlocks(data, final) : deflatePart(data, level, final, dictionary));
      });
    } else {
      parts.push(deflatePart(block, level, last, before));
    }
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(input.length > 0 ? crc32(input) : 0, 0);
  trailer.writeUInt32LE(input.length % 2 ** 32, 4);
  return Buffer.concat([...parts, trailer]);
}

async function parallelGzip(input: Buffer, level: number, chunk: number, maxInFlight?: number): Promise<Buffer> {
  const pieces = Array.from({ length: Math.ceil(input.length / chunk) }, (_, i) => input.subarray(i * chunk, (i + 1) * chunk));
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), new ParallelGzip(level, maxInFlight), new Writable({ write(c: Buffer, _e, cb) { out.push(c); cb(); } }));
  return Buffer.concat(out);
}

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
}

/** Kinds of input: words (compresses ~4x), skewed bytes (a block's output spans several zlib chunks), random, and a mix. */
function input(kind: "text" | "skewed" | "random" | "mixed", size: number): Buffer {
  const next = lcg(size + kind.length);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    const r = next();
    switch (kind) {
      case "text":
        out[i] = 97 + ((i * 7 + (i >> 11) + (r & 3)) % 26);
        break;
      case "skewed":
        out[i] = r & (r >> 3) & 0x3f;
        break;
      case "random":
        out[i] = r;
        break;
      case "mixed":
        // random stretches that do not line up with blocks or sub-blocks
        out[i] = i % 300_007 < 120_001 ? r : 97 + ((i * 13 + (i >> 9)) % 26);
        break;
    }
  }
  return out;
}

describe("ParallelGzip output bytes", () => {
  const MiB = 1 << 20;
  const cases: Array<[kind: Parameters<typeof input>[0], size: number, level: number]> = [
    ["text", 0, 4],
    ["text", 1, 4],
    ["text", MiB - 1, 4],
    ["text", MiB, 4],
    ["text", 3 * MiB + 777, 4],
    ["skewed", 2 * MiB + 5, 4],
    ["random", MiB + 100_000, 4],
    ["mixed", 3 * MiB + 4_321, 4],
    ["mixed", 2 * MiB + 99, 1],
    ["text", 2 * MiB + 3, 9],
  ];
  for (const [kind, size, level] of cases) {
    it(`equal to the serial encoder: ${kind}, ${size} bytes, level ${level}, any chunking`, async () => {
      const data = input(kind, size);
      const expected = serialGzip(data, level);
      assert.deepEqual(gunzipSync(expected), data, "the reference itself decodes to the input");
      for (const [chunk, maxInFlight] of [[65_536, undefined], [1_000_003, 1], [4 * MiB, 8]] as const) {
        const got = await parallelGzip(data, level, chunk, maxInFlight);
        assert.ok(got.equals(expected), `chunks of ${chunk}, ${maxInFlight ?? "default"} in flight: ${got.length} bytes differ from the serial ${expected.length}`);
      }
    });
  }
});
