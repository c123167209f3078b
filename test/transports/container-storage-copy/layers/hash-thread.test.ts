// layerHash: the sha256 of a layer stream made on the helper thread equals node:crypto's, whatever
// the chunk sizes, however many streams share the ring at once, and with one dropped halfway.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { layerHash } from "../../../../transports/container-storage-copy/layers/hash-thread.js";

const sha256 = (parts: Buffer[]): string => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return `sha256:${h.digest("hex")}`;
};

describe("layerHash", () => {
  it("gives node:crypto's digest for interleaved streams, chunks from empty to several ring slots", async () => {
    const streams = Array.from({ length: 3 }, () => ({ hash: layerHash(), parts: [] as Buffer[] }));
    const dropped = layerHash();
    const sizes = [0, 1, 511, 256 * 1024, 256 * 1024 + 1, 700_000, 3, 4096];
    // Far more than the ring holds (1 MiB), so its slots are reused many times.
    for (let round = 0; round < 12; round++) {
      for (const [i, s] of streams.entries()) {
        const part = randomBytes(sizes[(round + i) % sizes.length] as number);
        s.hash.update(part);
        s.parts.push(part);
      }
      if (round < 6) dropped.update(randomBytes(100_000));
      if (round === 6) dropped.discard();
    }
    const digests = await Promise.all(streams.map((s) => s.hash.digest()));
    assert.deepEqual(digests, streams.map((s) => sha256(s.parts)));
  });

  it("hashes an empty stream", async () => {
    assert.equal(await layerHash().digest(), sha256([]));
  });
});
