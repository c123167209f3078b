import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { createDecompressor } from "../../src/compression/codec-streams.js";
import { mapLimited } from "../../src/copy/run-limited.js";
import { streamToDestination } from "../../src/copy/stream-to-destination.js";
import { UncompressedDigestTap } from "../../src/copy/uncompressed-digest-tap.js";
import { sha256 } from "../../src/digest.js";

async function drain(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

function chunksOf(bytes: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

describe("UncompressedDigestTap", () => {
  it("passes compressed bytes through and hashes their decompressed content", async () => {
    const plain = Buffer.from("content of a layer\n".repeat(50000));
    const gz = gzipSync(plain);
    const tap = new UncompressedDigestTap(await createDecompressor("gzip"));
    let out: Buffer = Buffer.alloc(0);
    await pipeline(chunksOf(gz, 1000), tap, async (s: AsyncIterable<Buffer>) => {
      out = await drain(s);
    });
    assert.deepEqual(out, gz);
    assert.equal(tap.digest(), sha256(plain));
  });

  it("fails the stream on corrupt compressed data", async () => {
    const gz = gzipSync(Buffer.from("x".repeat(10000)));
    gz[20] = gz[20]! ^ 0xff;
    const tap = new UncompressedDigestTap(await createDecompressor("gzip"));
    await assert.rejects(pipeline(Readable.from([gz]), tap, async (s: AsyncIterable<Buffer>) => drain(s)), { code: /^Z_/ });
  });
});

describe("streamToDestination", () => {
  it("a failing source reaches the reader; the source's error wins", async () => {
    const source = Readable.from((async function* () {
      yield Buffer.from("part");
      throw new Error("source failed");
    })());
    let readerSaw: unknown;
    await assert.rejects(
      streamToDestination(source, [], async (s) => {
        try {
          await drain(s);
        } catch (err) {
          readerSaw = err;
          throw new Error("reader failed as a consequence");
        }
        return { digest: "", size: 0 };
      }, new AbortController().signal, "blob"),
      /source failed/,
    );
    assert.ok(readerSaw);
  });

  it("a destination that fails stops the pipeline", async () => {
    const endless = new Readable({ read() { this.push(Buffer.alloc(65536)); } });
    await assert.rejects(streamToDestination(endless, [], async () => { throw new Error("disk full"); }, new AbortController().signal, "blob"), /disk full/);
    assert.equal(endless.destroyed, true);
  });

  it("a destination that stops its stream and fails is reported by its own error, not the premature close it caused", async () => {
    const endless = new Readable({ read() { this.push(Buffer.alloc(1024)); } });
    await assert.rejects(
      streamToDestination(endless, [], async (s) => {
        s.destroy();
        throw new Error("registry refused the push");
      }, new AbortController().signal, "blob"),
      /registry refused the push/,
    );
  });

  it("a destination that fails before reading a small blob leaves no unhandled stream error", async () => {
    await assert.rejects(
      streamToDestination(Readable.from([Buffer.from("config")]), [], async () => {
        await new Promise((r) => setTimeout(r, 20)); // the pipeline has filled the stream and finished by now
        throw new Error("read-only registry");
      }, new AbortController().signal, "config"),
      /read-only registry/,
    );
  });

  it("a destination that returns without reading everything is an error, not a hang", async () => {
    const endless = new Readable({ read() { this.push(Buffer.alloc(65536)); } });
    await assert.rejects(
      streamToDestination(endless, [], async () => ({ digest: "", size: 0 }), new AbortController().signal, "layer x"),
      /layer x: the destination returned before reading the whole blob/,
    );
  });
});

describe("mapLimited", () => {
  it("keeps input order, respects the limit, and stops starting tasks after a failure", async () => {
    let active = 0;
    let most = 0;
    const started: number[] = [];
    const results = await mapLimited([1, 2, 3, 4, 5, 6], 2, async (n) => {
      active++;
      most = Math.max(most, active);
      await new Promise((r) => setImmediate(r));
      active--;
      return n * 10;
    }, new AbortController().signal);
    assert.deepEqual(results, [10, 20, 30, 40, 50, 60]);
    assert.equal(most, 2);

    await assert.rejects(
      mapLimited([1, 2, 3, 4, 5, 6], 2, async (n, _i, signal) => {
        started.push(n);
        if (n === 2) throw new Error("task 2 failed");
        await new Promise((r) => setImmediate(r));
        assert.equal(signal.aborted, n === 1, "the sibling running when 2 failed sees the abort");
        return n;
      }, new AbortController().signal),
      /task 2 failed/,
    );
    assert.deepEqual(started, [1, 2]);
  });
});
