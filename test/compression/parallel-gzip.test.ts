import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { gunzipSync } from "node:zlib";
import { ParallelGzip } from "../../src/compression/parallel-gzip.js";
import { run, tempDir } from "../helpers/tools.js";

async function compress(data: Buffer, level = 4, chunk = 300_000): Promise<Buffer> {
  const parts: Buffer[] = [];
  const pieces = Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) => data.subarray(i * chunk, (i + 1) * chunk));
  await pipeline(Readable.from(pieces), new ParallelGzip(level), new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } }));
  return Buffer.concat(parts);
}

/** Text-like data with repeats across block boundaries, plus incompressible stretches. */
function sample(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 200_000 < 150_000 ? 97 + ((i * 7 + (i >> 12)) % 26) : x >>> 24;
  }
  return out;
}

describe("ParallelGzip", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  for (const size of [0, 1, (1 << 20) - 1, 1 << 20, 3 * (1 << 20) + 12_345]) {
    it(`produces one gzip member that gzip(1) decodes to the input (${size} bytes)`, async () => {
      const input = sample(size);
      const gz = await compress(input);
      const file = join(dir.path, `x-${size}.gz`);
      await writeFile(file, gz);
      await run("gzip", ["-t", file]);
      await run("sh", ["-c", `gzip -dc '${file}' > '${file}.out'`]);
      assert.equal(createHash("sha256").update(await readFile(`${file}.out`)).digest("hex"), createHash("sha256").update(input).digest("hex"));
      // One member: the trailer's ISIZE is the whole input's length.
      assert.equal(gz.readUInt32LE(gz.length - 4), size % 2 ** 32);
      assert.deepEqual(gunzipSync(gz), input);
    });
  }

  it("compresses as well as serial zlib at the same level (dictionary carried across blocks)", async () => {
    const input = sample(4 << 20);
    const { gzipSync } = await import("node:zlib");
    const serial = gzipSync(input, { level: 6 }).length;
    const parallel = (await compress(input, 6)).length;
    assert.ok(parallel < serial * 1.01, `parallel ${parallel} bytes vs serial ${serial}`);
  });

  it("keeps no reference to a chunk once it is written (its bytes are copied into a pooled block)", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const gzip = new ParallelGzip(4);
    const output: Buffer[] = [];
    gzip.on("data", (c: Buffer) => output.push(c));
    // Less than a block: nothing is deflated yet, so the input waits inside the stream.
    const written = (): WeakRef<Buffer> => {
      const chunk = sample(300_000);
      gzip.write(chunk);
      return new WeakRef(chunk);
    };
    const ref = written();
    await new Promise((resolve) => setImmediate(resolve)); // WeakRef targets live through the job that made them
    gc();
    assert.equal(ref.deref(), undefined, "the written chunk is still reachable from the stream");
    gzip.end();
    await new Promise((resolve) => gzip.on("end", resolve));
    assert.deepEqual(gunzipSync(Buffer.concat(output)), sample(300_000));
  });
});
