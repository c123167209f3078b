// openLayerStream: which producer it picks, its one-line errors, abort and backpressure.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { isImgcopyError } from "../../../../src/errors.js";
import { openLayerStream } from "../../../../transports/container-storage-copy/layers/index.js";
import { layerDirUnder } from "../../../../transports/container-storage-copy/layers/layer-paths.js";
import { BuildahStore } from "./buildah-store.js";

const BIG = 24 * 1024 * 1024;

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isImgcopyError(err), `not an imgcopy error: ${String(err)}`);
    assert.ok(!err.message.includes("\n"));
    return { code: err.code, message: err.message };
  }
  assert.fail("expected a rejection");
}

describe("openLayerStream", () => {
  let store: BuildahStore;
  let baseLayer: string;
  let rwLayer: string;

  before(async () => {
    store = await BuildahStore.create("vfs");
    const c = await store.from("scratch");
    await mkdir(join(c.mount, "etc"));
    await writeFile(join(c.mount, "etc/f"), "f\n");
    const image = await store.commit(c.id, "localhost/stream-base:1");
    baseLayer = await store.imageTopLayer(image);
    const c2 = await store.from("localhost/stream-base:1");
    await writeFile(join(c2.mount, "big"), Buffer.alloc(BIG, 0x5a));
    rwLayer = await store.containerLayer(c2.id);
  });
  after(async () => store.cleanup());

  it("rejects, naming the layer and the path, when the layer's directory is missing", async () => {
    const dir = layerDirUnder(store.graphRoot, "vfs", baseLayer);
    await rename(dir, `${dir}.moved`);
    try {
      const err = await rejection(openLayerStream(await store.streamInput(baseLayer)));
      assert.equal(err.code, "ENOTFOUND");
      assert.equal(err.message, `layer ${baseLayer}: ${dir}: no such file or directory`);
      const rw = await rejection(openLayerStream(await store.streamInput(rwLayer)));
      assert.equal(rw.code, "ENOTFOUND", "the vfs parent tree is looked up before streaming");
      assert.match(rw.message, new RegExp(`^layer ${baseLayer}: its files are missing \\(looked in ${dir}\\)$`));
    } finally {
      await rename(`${dir}.moved`, dir);
    }
  });

  it("refuses lowers that do not match the layer's parent, incomplete layers and other drivers", async () => {
    const input = await store.streamInput(rwLayer);
    let err = await rejection(openLayerStream({ ...input, lowers: [] }));
    assert.equal(err.code, "ECORRUPT");
    assert.equal(err.message, `layer ${rwLayer}: its parent is ${baseLayer} but the first lower given is (none)`);
    err = await rejection(openLayerStream({ ...input, layer: { ...input.layer, flags: { incomplete: true } } }));
    assert.match(err.message, /the layer is incomplete/);
    // @ts-expect-error: a driver the store reader might pass through from storage.conf
    err = await rejection(openLayerStream({ ...input, location: { ...input.location, driver: "btrfs" } }));
    assert.equal(err.code, "EUNSUPPORTED");
  });

  it("reads the disk only as fast as the stream is consumed", async () => {
    const stream = await openLayerStream(await store.streamInput(rwLayer));
    await once(stream, "readable");
    for (let i = 0; i < 5; i++) await sleep(20); // let any eager producer run ahead
    assert.ok(stream.readableLength <= 1024 * 1024, `buffered ${stream.readableLength} bytes of a ${BIG}-byte layer`);
    let total = 0;
    for await (const chunk of stream) total += (chunk as Buffer).length;
    assert.ok(total > BIG && total % 512 === 0, `a whole tar: ${total} bytes`);
  });

  it("stops with an AbortedError naming the layer when the signal fires", async () => {
    const controller = new AbortController();
    const stream = await openLayerStream(await store.streamInput(rwLayer, { signal: controller.signal }));
    const err = await rejection((async () => {
      for await (const _chunk of stream) controller.abort();
    })());
    assert.equal(err.code, "EABORT");
    assert.equal(err.message, `layer ${rwLayer}: aborted`);
    assert.ok(stream.destroyed);
  });

  it("writes a container from scratch (no parent) as its whole tree, bit-for-bit what buildah commit writes", async () => {
    const c = await store.from("scratch");
    await mkdir(join(c.mount, "a/b"), { recursive: true });
    await writeFile(join(c.mount, "a/b/c"), "c\n");
    await writeFile(join(c.mount, "top"), "top\n");
    const rw = await store.containerLayer(c.id);
    const hash = createHash("sha256");
    for await (const chunk of await openLayerStream(await store.streamInput(rw))) hash.update(chunk as Buffer);
    const image = await store.commit(c.id, "localhost/from-scratch:1");
    const [committed] = await store.chain(await store.imageTopLayer(image));
    assert.equal(`sha256:${hash.digest("hex")}`, committed?.["diff-digest"]);
  });

  it("rejects at once when the signal has already fired", async () => {
    const err = await rejection(openLayerStream(await store.streamInput(baseLayer, { signal: AbortSignal.abort() })));
    assert.equal(err.code, "EABORT");
  });
});
