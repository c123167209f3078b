// Incompressible stretches of a gzip stream go out as stored deflate blocks: the stream stays one
// valid gzip member (gzip(1), Node's gunzip and Go's reader through umoci agree), byte-identical
// whatever the chunking and the parallelism, and random bytes cost 5 bytes per 64 KiB, not a deflate.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { gunzipSync, inflateRawSync } from "node:zlib";
import { planRuns, sampledEntropy, storedBlocks, SUB_BLOCK } from "../../src/compression/incompressible.js";
import { ParallelGzip } from "../../src/compression/parallel-gzip.js";
import { unpackWithUmoci } from "../helpers/tree-compare.js";
import { run, tempDir } from "../helpers/tools.js";

const MiB = 1 << 20;
const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

async function compress(data: Buffer, chunk: number, maxInFlight?: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  const pieces = Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) => data.subarray(i * chunk, (i + 1) * chunk));
  const sink = new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } });
  await pipeline(Readable.from(pieces), new ParallelGzip(4, maxInFlight), sink);
  return Buffer.concat(parts);
}

/** Text lines with numbers in them: compresses to well under half. */
function text(size: number, seed = 0): Buffer {
  const lines: string[] = [];
  for (let i = 0, n = 0; n < size; i++) {
    const line = `line ${i + seed} of a text file, value=${(i * 7919 + seed) % 100_003}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, size);
}

/** Stored deflate blocks hold at most 65535 bytes; each costs a 5-byte header. */
const storedOverhead = (n: number): number => 5 * Math.ceil(n / 0xffff);

describe("incompressible stretches in gzip", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  it("tells random bytes from text and binaries by a sample of their byte histogram", () => {
    assert.ok(sampledEntropy(randomBytes(SUB_BLOCK), 0, SUB_BLOCK) > 7.9);
    assert.ok(sampledEntropy(text(SUB_BLOCK), 0, SUB_BLOCK) < 6);
    const runs = planRuns(Buffer.concat([text(2 * SUB_BLOCK), randomBytes(3 * SUB_BLOCK), text(SUB_BLOCK + 100, 9)]));
    assert.deepEqual(runs, [
      { start: 0, end: 2 * SUB_BLOCK, stored: false },
      { start: 2 * SUB_BLOCK, end: 5 * SUB_BLOCK, stored: true },
      { start: 5 * SUB_BLOCK, end: 6 * SUB_BLOCK + 100, stored: false },
    ]);
  });

  it("writes stored blocks any inflater reads back (empty, one, several, final or not)", () => {
    for (const size of [0, 1, 0xffff, 0x10000, 200_000]) {
      const data = randomBytes(size);
      assert.deepEqual(inflateRawSync(storedBlocks(data, true)), data);
      // Not final: the stream goes on; an empty final stored block ends it.
      assert.deepEqual(inflateRawSync(Buffer.concat([storedBlocks(data, false), storedBlocks(Buffer.alloc(0), true)])), data);
      assert.equal(storedBlocks(data, true).length, size + storedOverhead(Math.max(size, 1)));
    }
  });

  it("stores random input instead of deflating it: 5 bytes per 64 KiB over the input, gzip(1) decodes it", async () => {
    const input = randomBytes(3 * MiB + 5000);
    const gz = await compress(input, 256 * 1024);
    // Header and trailer 18 bytes; every 1 MiB block is stored blocks of up to 65535 bytes each.
    const blocks = [MiB, MiB, MiB, 5000];
    assert.equal(gz.length, 18 + blocks.reduce((n, b) => n + b + storedOverhead(b), 0));
    const file = join(dir.path, "random.gz");
    await writeFile(file, gz);
    await run("gzip", ["-t", file]);
    await run("sh", ["-c", `gzip -dc '${file}' > '${file}.out'`]);
    assert.equal(sha256(await readFile(`${file}.out`)), sha256(input));
  });

  it("deflates the text and stores the random half of a block that holds both, in one gzip member", async () => {
    const textPart = text(MiB / 2);
    const input = Buffer.concat([textPart, randomBytes(MiB / 2), textPart, randomBytes(MiB / 4 + 77)]);
    const gz = await compress(input, 100_000);
    assert.deepEqual(gunzipSync(gz), input);
    assert.equal(gz.readUInt32LE(gz.length - 4), input.length, "one member: ISIZE is the whole input's length");
    const file = join(dir.path, "mixed.gz");
    await writeFile(file, gz);
    await run("sh", ["-c", `gzip -dc '${file}' > '${file}.out'`]);
    assert.equal(sha256(await readFile(`${file}.out`)), sha256(input));
    // The random 768 KiB stay as they are, the text shrinks: well under the random share plus the text.
    assert.ok(gz.length < MiB * 0.75 + 100 + textPart.length / 2, `${gz.length} bytes`);
  });

  it("gives the same bytes whatever the chunking and the number of blocks in flight", async () => {
    const input = Buffer.concat([text(700_000), randomBytes(MiB + 300_000), text(MiB, 5), randomBytes(90_000), text(50_000, 7)]);
    const reference = await compress(input, 1 << 16, 1);
    for (const [chunk, inFlight] of [[1 << 16, 4], [333_333, 2], [4 * MiB, 8], [777, 3]] as const) {
      assert.equal(sha256(await compress(input, chunk, inFlight)), sha256(reference), `chunk ${chunk}, ${inFlight} in flight`);
    }
    assert.deepEqual(gunzipSync(reference), input);
  });

  it("makes a layer Go's gzip reader (umoci unpack) takes, with its DiffID", async () => {
    const rootfs = join(dir.path, "rootfs");
    await mkdir(join(rootfs, "data"), { recursive: true });
    const random = randomBytes(2 * MiB + 12_345);
    const mixed = Buffer.concat([text(400_000), randomBytes(300_000), text(200_000, 3)]);
    await writeFile(join(rootfs, "data", "random.bin"), random);
    await writeFile(join(rootfs, "data", "mixed.txt"), mixed);
    const tarFile = join(dir.path, "layer.tar");
    await run("tar", ["--sort=name", "--owner=0", "--group=0", "-C", rootfs, "-cf", tarFile, "data"]);
    const tar = await readFile(tarFile);
    const layer = await compress(tar, 64 * 1024);
    const layout = join(dir.path, "layout");
    const blob = async (content: Buffer | string): Promise<{ digest: string; size: number }> => {
      const bytes = Buffer.from(content);
      await mkdir(join(layout, "blobs", "sha256"), { recursive: true });
      await writeFile(join(layout, "blobs", "sha256", sha256(bytes)), bytes);
      return { digest: `sha256:${sha256(bytes)}`, size: bytes.length };
    };
    const layerDesc = await blob(layer);
    const config = await blob(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] } }));
    const manifest = await blob(JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layerDesc }],
    }));
    await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    const ref = { "org.opencontainers.image.ref.name": "t" };
    await writeFile(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: ref }] }));
    const unpacked = await unpackWithUmoci(layout, "t", join(dir.path, "unpacked"));
    assert.equal(sha256(await readFile(join(unpacked, "data", "random.bin"))), sha256(random));
    assert.equal(sha256(await readFile(join(unpacked, "data", "mixed.txt"))), sha256(mixed));
  });
});
