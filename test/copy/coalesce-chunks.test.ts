// ChunkCoalescer: the same bytes in the same order, small chunks joined, big ones passed through.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { test } from "node:test";
import { ChunkCoalescer } from "../../src/copy/coalesce-chunks.js";

/** The chunks as pushed ('data' events: async iteration would join what is buffered). */
async function through(chunks: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const coalescer = Readable.from(chunks, { objectMode: false }).pipe(new ChunkCoalescer());
  coalescer.on("data", (chunk: Buffer) => out.push(chunk));
  await finished(coalescer);
  return out;
}

test("joins tiny chunks into large ones and keeps every byte in order", async () => {
  const chunks = Array.from({ length: 3000 }, (_, i) => randomBytes(1 + (i % 700)));
  const out = await through(chunks);
  assert.ok(Buffer.concat(out).equals(Buffer.concat(chunks)));
  assert.ok(out.length < 10, `${out.length} chunks out of ${chunks.length}`);
  assert.ok(out.every((c) => c.length <= 256 * 1024));
});

test("passes big chunks through as they are, after what was gathered before them", async () => {
  const big = randomBytes(300 * 1024);
  const chunks = [Buffer.from("head"), big, Buffer.from("tail")];
  const out = await through(chunks);
  assert.deepEqual(out.map((c) => c.length), [4, big.length, 4]);
  assert.equal(out[1], big, "the same buffer, not a copy");
  assert.ok((await through([])).length === 0);
});
