// Lent buffers: a producer's batches given back by the gzip stage once copied, refilled, and never
// while anything may still read them (the bytes that come out are the bytes that went in).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { giveBack, lend } from "../../src/compression/lent-buffers.js";
import { ParallelGzip } from "../../src/compression/parallel-gzip.js";
import { ChunkCoalescer } from "../../src/copy/coalesce-chunks.js";
import { ProgressMeter } from "../../src/copy/progress-meter.js";
import { DigestingStream } from "../../src/digest.js";
import { FileSink } from "../../src/file-sink.js";
import { TarBatches } from "../../transports/container-storage-copy/layers/tar-batches.js";
import { run, tempDir } from "../helpers/tools.js";

/** Text-like bytes with incompressible stretches, different at every offset (a misplaced batch shows). */
function sample(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 700_000 < 500_000 ? 97 + ((i * 7 + (i >> 11)) % 26) : x >>> 24;
  }
  return out;
}

/** A sink that takes its time, so that batches queue up in the stages before it. */
function slowSink(into: Buffer[]): Writable {
  return new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, done) {
      into.push(chunk);
      setTimeout(done, 1);
    },
  });
}

/** The engine's stages for a plain layer that is gzip-compressed (copy-layer.ts / layer-transforms.ts). */
function gzipStages(): [ChunkCoalescer, ProgressMeter, ParallelGzip, DigestingStream] {
  return [new ChunkCoalescer(), new ProgressMeter(() => undefined, "blob", undefined, -1), new ParallelGzip(4, 2), new DigestingStream()];
}

describe("lent buffers", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  it("goes back to its lender once; a buffer not lent is not taken", () => {
    const returned: Buffer[] = [];
    const chunk = Buffer.alloc(16);
    assert.equal(giveBack(chunk), false);
    lend(chunk, (b) => returned.push(b));
    assert.equal(giveBack(chunk), true);
    assert.equal(giveBack(chunk), false, "a second give-back of the same lending");
    assert.deepEqual(returned, [chunk]);
  });

  it("ParallelGzip gives each lent chunk back only once it has copied it (poisoned on return, the output is still the input)", async () => {
    const input = sample(9 * (1 << 20) + 4321);
    const piece = 256 * 1024;
    let returned = 0;
    const lentChunks = (function* () {
      for (let at = 0; at < input.length; at += piece) {
        const chunk = Buffer.from(input.subarray(at, at + piece));
        lend(chunk, (b) => {
          returned++;
          b.fill(0xee); // whoever still read it would now see other bytes
        });
        yield chunk;
      }
    })();
    const out: Buffer[] = [];
    const [coalescer, meter, gzip, digest] = gzipStages();
    await pipeline(Readable.from(lentChunks, { objectMode: false }), coalescer, meter, gzip, digest, slowSink(out));
    const gz = Buffer.concat(out);
    assert.ok(gunzipSync(gz).equals(input));
    // The last, 4321-byte chunk is joined (copied) by the coalescer: that one is left to the GC.
    assert.equal(returned, Math.floor(input.length / piece), "every full lent chunk came back");
    assert.equal(digest.digest(), `sha256:${createHash("sha256").update(gz).digest("hex")}`);
  });

  it("TarBatches refills the batches the gzip stage gives back, with many in flight, and gzip(1) decodes the same bytes", async () => {
    const pieces = Array.from({ length: 40 }, (_, i) => sample(100_000 + i * 13_337, i + 1));
    const input = Buffer.concat(pieces);
    const { producer, buffers: batches, handedOut: handed } = tarBatchesOf(pieces);
    const out: Buffer[] = [];
    await pipeline(Readable.from(producer, { objectMode: false }), ...gzipStages(), slowSink(out));
    const handedOut = handed();
    assert.ok(handedOut > 20);
    assert.ok(batches.size < handedOut / 2, `${batches.size} buffers for ${handedOut} batches: the given-back ones were refilled`);
    const file = join(dir.path, "refilled.gz");
    await pipeline(Readable.from([Buffer.concat(out)]), new FileSink(file));
    await run("gzip", ["-t", file]);
    const { stdout } = await run("sh", ["-c", `gzip -dc '${file}' | sha256sum`]);
    assert.equal(stdout.split(" ")[0], createHash("sha256").update(input).digest("hex"));
  });

  it("a batch written to a file is never given back, so never refilled", async () => {
    const pieces = Array.from({ length: 12 }, (_, i) => sample(150_000, i + 7));
    const { producer, buffers, handedOut } = tarBatchesOf(pieces);
    const file = join(dir.path, "plain.tar");
    await pipeline(Readable.from(producer, { objectMode: false }), new ChunkCoalescer(), new FileSink(file));
    assert.equal(buffers.size, handedOut(), "every batch a buffer of its own");
    const written: Buffer[] = [];
    for await (const c of createReadStream(file)) written.push(c as Buffer);
    assert.ok(Buffer.concat(written).equals(Buffer.concat(pieces)));
  });
});

/** `pieces` through a TarBatches producer, noting each full batch it hands out and the buffers behind them. */
function tarBatchesOf(pieces: Buffer[]): { producer: AsyncGenerator<Buffer>; buffers: Set<ArrayBufferLike>; handedOut: () => number } {
  const buffers = new Set<ArrayBufferLike>();
  let handedOut = 0;
  const producer = (async function* () {
    const out = new TarBatches();
    for (const p of pieces) {
      for (const batch of out.append(p)) {
        buffers.add(batch.buffer);
        handedOut++;
        yield batch;
      }
    }
    const last = out.flush();
    if (last) yield last;
  })();
  return { producer, buffers, handedOut: () => handedOut };
}
