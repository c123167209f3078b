import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { compressionOfMagic, detectCompression, type DetectedCompression } from "../../src/compression/detect-compression.js";
import { run } from "../helpers/tools.js";

/** `data` compressed by the real command-line tool (gzip, zstd, bzip2, xz). */
async function compressWithTool(tool: string, data: Buffer): Promise<Buffer> {
  const { stdout } = await run("sh", ["-c", `printf '%s' "$DATA" | base64 -d | ${tool} -c | base64 -w0`], {
    env: { ...process.env, DATA: data.toString("base64") },
  });
  return Buffer.from(stdout, "base64");
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A stream of `bytes` in chunks of `size` (1 = the magic split over several chunks). */
function chunked(bytes: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

describe("detectCompression", () => {
  const data = Buffer.concat([Buffer.from("layer data\n".repeat(1000)), randomBytes(5000)]);

  for (const [tool, expected] of [["gzip", "gzip"], ["zstd -q", "zstd"], ["bzip2", "bzip2"], ["xz", "xz"]] as const) {
    it(`recognises ${expected} made by the ${tool.split(" ")[0]} tool and loses no byte`, async () => {
      const compressed = await compressWithTool(tool, data);
      for (const size of [1, 3, 65536]) {
        const { algorithm, stream } = await detectCompression(chunked(compressed, size));
        assert.equal(algorithm, expected as DetectedCompression);
        assert.deepEqual(await readAll(stream), compressed, `chunks of ${size}`);
      }
    });
  }

  it("says none for a plain tar, a short blob and an empty one, still yielding every byte", async () => {
    for (const bytes of [data, Buffer.from([0x1f]), Buffer.alloc(0)]) {
      const { algorithm, stream } = await detectCompression(chunked(bytes, 2));
      assert.equal(algorithm, "none");
      assert.deepEqual(await readAll(stream), bytes);
    }
  });

  it("passes a source error to the detection or to the reader", async () => {
    const early = new Readable({ read() { this.destroy(new Error("source broke")); } });
    await assert.rejects(detectCompression(early), /source broke/);
    const late = Readable.from((async function* () {
      yield Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
      throw new Error("source broke later");
    })());
    const { algorithm, stream } = await detectCompression(late);
    assert.equal(algorithm, "gzip");
    await assert.rejects(readAll(stream), /source broke later/);
  });

  it("compressionOfMagic needs the whole magic", () => {
    assert.equal(compressionOfMagic(Buffer.from([0x28, 0xb5, 0x2f])), "none");
    assert.equal(compressionOfMagic(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), "zstd");
    assert.equal(compressionOfMagic(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), "xz");
  });
});
