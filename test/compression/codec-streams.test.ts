import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { checkCompressionLevel, createCompressor, createDecompressor, parseCompressionAlgorithm } from "../../src/compression/codec-streams.js";
import { importZstdAddon, zstdAvailable } from "../../src/compression/zstd-addon.js";
import { UnsupportedError, UsageError } from "../../src/errors.js";
import { run } from "../helpers/tools.js";

async function through(transform: Transform, input: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([input]), transform, async (s: AsyncIterable<Buffer>) => {
    for await (const c of s) chunks.push(c);
  });
  return Buffer.concat(chunks);
}

describe("compression streams with real gzip and zstd data", () => {
  let dir: string;
  const data = Buffer.concat([Buffer.from("some tar-like content\n".repeat(4000)), randomBytes(20000)]);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imgcopy-codec-"));
    await writeFile(join(dir, "data"), data);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("gzip output is read by the gzip tool; levels change the output", async () => {
    const fast = await through(await createCompressor("gzip", 1), data);
    const best = await through(await createCompressor("gzip", 9), data);
    assert.notDeepEqual(fast, best);
    await writeFile(join(dir, "out.gz"), best);
    await run("sh", ["-c", `gzip -dc '${join(dir, "out.gz")}' | cmp - '${join(dir, "data")}'`]);
  });

  it("zstd output is read by the zstd tool", async () => {
    assert.equal(await zstdAvailable(), true);
    await writeFile(join(dir, "out.zst"), await through(await createCompressor("zstd", 19), data));
    await run("sh", ["-c", `zstd -qdc '${join(dir, "out.zst")}' | cmp - '${join(dir, "data")}'`]);
  });

  it("decompresses multi-member gzip and multi-frame zstd made by the tools", async () => {
    await run("sh", ["-c", `cd '${dir}' && head -c 30000 data > a && tail -c +30001 data > b && gzip -c a > m.gz && gzip -c b >> m.gz && zstd -qc a > m.zst && zstd -qc b >> m.zst`]);
    assert.deepEqual(await through(await createDecompressor("gzip"), await readFile(join(dir, "m.gz"))), data);
    assert.deepEqual(await through(await createDecompressor("zstd"), await readFile(join(dir, "m.zst"))), data);
  });

  it("fails on corrupt gzip", async () => {
    await assert.rejects(through(await createDecompressor("gzip"), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5])), { code: /^Z_/ });
  });

  it("refuses bzip2 and xz decompression naming the blob", async () => {
    await assert.rejects(createDecompressor("bzip2", "layer sha256:ab of x"), (err: Error) => err instanceof UnsupportedError && /^layer sha256:ab of x: bzip2-compressed/.test(err.message));
    await assert.rejects(createDecompressor("xz"), UnsupportedError);
  });
});

describe("compression options", () => {
  it("accepts gzip and zstd; refuses bzip2 (no media type) and unknown names", () => {
    assert.equal(parseCompressionAlgorithm("gzip"), "gzip");
    assert.equal(parseCompressionAlgorithm("zstd"), "zstd");
    assert.throws(() => parseCompressionAlgorithm("bzip2"), (err: Error) => err instanceof UnsupportedError && /no image media type exists for bzip2/.test(err.message));
    assert.throws(() => parseCompressionAlgorithm("lz4"), /unknown compression format "lz4"/);
  });

  it("checks levels per algorithm", () => {
    checkCompressionLevel("gzip", 9);
    checkCompressionLevel("zstd", 22);
    assert.throws(() => checkCompressionLevel("gzip", 10), UsageError);
    assert.throws(() => checkCompressionLevel("zstd", 1.5), UsageError);
  });

  it("a missing zstd addon gives a clear UnsupportedError", async () => {
    await assert.rejects(importZstdAddon("zstd-napi-that-did-not-build"), (err: Error) => {
      assert.ok(err instanceof UnsupportedError);
      assert.match(err.message, /^zstd support did not build \(zstd-napi\): /);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  });
});
