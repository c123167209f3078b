// layerHash: the sha256 of a layer stream made on the helper thread equals node:crypto's, whatever
// the chunk sizes, however many streams share the ring at once, and with one dropped halfway.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { layerHash } from "../../../../transports/container-storage-copy/layers/hash-thread.js";

const sha256 = (parts: Buffer[]): string => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return `sha256:${h.digest("hex")}`;
};

describe("layerHash", () => {
  // The helper thread is opt-in: these cases turn it on (and check it is really used).
  const saved = process.env.IMGCOPY_HASH_THREAD;
  before(() => {
    process.env.IMGCOPY_HASH_THREAD = "1";
  });
  after(() => {
    if (saved === undefined) delete process.env.IMGCOPY_HASH_THREAD;
    else process.env.IMGCOPY_HASH_THREAD = saved;
  });

  it("gives node:crypto's digest for interleaved streams, chunks from empty to several ring slots", async () => {
    const streams = Array.from({ length: 3 }, () => ({ hash: layerHash(), parts: [] as Buffer[] }));
    assert.ok(streams.every((s) => s.hash.threaded));
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

  it("hashes on the calling thread unless asked for the helper", async () => {
    process.env.IMGCOPY_HASH_THREAD = "0";
    try {
      const hash = layerHash();
      assert.equal(hash.threaded, false);
      const part = randomBytes(300_000);
      hash.update(part);
      assert.equal(await hash.digest(), sha256([part]));
    } finally {
      process.env.IMGCOPY_HASH_THREAD = "1";
    }
  });
});
