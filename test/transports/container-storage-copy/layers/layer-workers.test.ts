// Layers made on worker threads: the same bytes as on the main thread, the same one-line errors,
// abort and cancel, and no worker keeping the process alive afterwards.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { isImgcopyError } from "../../../../src/errors.js";
import { openLayerStream, type LayerStreamInput } from "../../../../transports/container-storage-copy/layers/index.js";
import { layerDirUnder } from "../../../../transports/container-storage-copy/layers/layer-paths.js";
import { layerThreads, produceLayer } from "../../../../transports/container-storage-copy/layers/layer-workers.js";
import { TSX } from "../../../cli/run-imgcopy.js";
import { BuildahStore } from "./buildah-store.js";

const BIG = 5 * 1024 * 1024 + 123;

async function digestOf(stream: Readable): Promise<{ digest: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string; name: string }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isImgcopyError(err), `not an imgcopy error: ${String(err)}`);
    assert.ok(!err.message.includes("\n"), err.message);
    return { code: err.code, message: err.message, name: err.name };
  }
  assert.fail("expected a failure");
}

/** The layer made on `threads` worker threads (0: this thread). */
async function withThreads<T>(threads: number, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.IMGCOPY_LAYER_THREADS;
  process.env.IMGCOPY_LAYER_THREADS = String(threads);
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.IMGCOPY_LAYER_THREADS;
    else process.env.IMGCOPY_LAYER_THREADS = saved;
  }
}

const onThreads = (threads: number, input: LayerStreamInput) => withThreads(threads, () => produceLayer(input));

describe("layers made on worker threads", () => {
  let store: BuildahStore;
  let baseLayer: string;
  let rwLayer: string;

  before(async () => {
    store = await BuildahStore.create("vfs");
    const c = await store.from("scratch");
    await mkdir(join(c.mount, "etc/sub"), { recursive: true });
    await writeFile(join(c.mount, "etc/f"), "f\n");
    await writeFile(join(c.mount, "etc/gone"), "gone\n");
    await writeFile(join(c.mount, "etc/sub/big"), Buffer.alloc(BIG, 0x41));
    const image = await store.commit(c.id, "localhost/worker-base:1");
    baseLayer = await store.imageTopLayer(image);
    const c2 = await store.from("localhost/worker-base:1");
    const random = Buffer.alloc(BIG);
    for (let i = 0; i < BIG; i += 4096) random.writeUInt32LE((i * 2654435761) >>> 0, i);
    await writeFile(join(c2.mount, "etc/sub/big"), random);
    await writeFile(join(c2.mount, "etc/f"), "changed\n");
    await rename(join(c2.mount, "etc/gone"), join(c2.mount, "moved"));
    for (let i = 0; i < 300; i++) await writeFile(join(c2.mount, `small-${i}`), `${i}\n`.repeat(i));
    rwLayer = await store.containerLayer(c2.id);
  });
  after(async () => store.cleanup());

  it("gives the same bytes as the main thread, for a replayed layer and a diffed one, whatever the thread count", async () => {
    for (const layer of [baseLayer, rwLayer]) {
      const input = await store.streamInput(layer);
      const here = await digestOf(await openLayerStream(input));
      for (const threads of [1, 2, 3]) {
        const produced = await onThreads(threads, input);
        assert.deepEqual(await digestOf(produced.stream), here, `layer ${layer} on ${threads} threads`);
        if (layer === baseLayer) {
          assert.equal(produced.verifies?.digest, (await store.chain(layer))[0]?.["diff-digest"], "a replay checks the record's digest itself");
          assert.equal(produced.producedDigest, undefined);
        } else {
          assert.equal(produced.verifies, undefined);
          assert.deepEqual(produced.producedDigest?.(), here, "the worker hashed what it sent");
        }
      }
    }
    // Several layers at once on one worker: each stream gets its own bytes.
    const inputs = [await store.streamInput(baseLayer), await store.streamInput(rwLayer), await store.streamInput(rwLayer)];
    const together = await withThreads(1, () => Promise.all(inputs.map(async (i) => digestOf((await produceLayer(i)).stream))));
    const alone = await Promise.all(inputs.map(async (i) => digestOf(await openLayerStream(i))));
    assert.deepEqual(together, alone);
  });

  it("fails with the main thread's error, same class and line, when opening or reading fails", async () => {
    const dir = layerDirUnder(store.graphRoot, "vfs", baseLayer);
    await rename(dir, `${dir}.moved`);
    try {
      const input = await store.streamInput(baseLayer);
      const here = await failure(openLayerStream(input));
      assert.deepEqual(await failure(onThreads(2, input)), here);
      assert.equal(here.code, "ENOTFOUND");
    } finally {
      await rename(`${dir}.moved`, dir);
    }
    // A file of a replayed layer that changed: the replay names it, in the worker too.
    const changed = join(dir, "etc/f");
    const saved = await readFile(changed);
    await writeFile(changed, "F\n");
    try {
      const input = await store.streamInput(baseLayer);
      const here = await failure(digestOf(await openLayerStream(input)));
      assert.equal(here.code, "ECORRUPT");
      assert.deepEqual(await failure(digestOf((await onThreads(2, input)).stream)), here);
    } finally {
      await writeFile(changed, saved);
    }
    // The record's digest edited: a DigestMismatchError crosses as itself.
    const recorded = (await store.chain(baseLayer))[0]?.["diff-digest"];
    await store.editLayer(baseLayer, (l) => {
      l["diff-digest"] = `sha256:${"0".repeat(64)}`;
    });
    try {
      const input = await store.streamInput(baseLayer);
      const here = await failure(digestOf(await openLayerStream(input)));
      assert.equal(here.code, "EDIGEST");
      assert.deepEqual(await failure(digestOf((await onThreads(2, input)).stream)), here);
    } finally {
      await store.editLayer(baseLayer, (l) => {
        l["diff-digest"] = recorded;
      });
    }
  });

  it("stops with an AbortedError naming the layer when the signal fires, and a destroyed stream stops its worker", async () => {
    const controller = new AbortController();
    const { stream } = await onThreads(2, await store.streamInput(rwLayer, { signal: controller.signal }));
    const err = await failure((async () => {
      for await (const _chunk of stream) controller.abort();
    })());
    assert.deepEqual([err.code, err.message], ["EABORT", `layer ${rwLayer}: aborted`]);
    assert.ok(stream.destroyed);
    // The same worker serves the next layer.
    const again = await onThreads(2, await store.streamInput(rwLayer));
    again.stream.destroy();
    const next = await onThreads(1, await store.streamInput(rwLayer));
    assert.deepEqual(await digestOf(next.stream), await digestOf(await openLayerStream(await store.streamInput(rwLayer))));
  });

  it("lets the process exit once its layers are read or dropped, without terminating the workers", async () => {
    const child = fileURLToPath(new URL("./worker-exit-child.ts", import.meta.url));
    const input = JSON.stringify(await store.streamInput(rwLayer));
    const proc = spawn(process.execPath, ["--import", TSX, child, input], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, IMGCOPY_LAYER_THREADS: "2" } });
    let out = "";
    proc.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    proc.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
    const code = await new Promise<number | null>((resolve) => proc.on("close", resolve));
    assert.equal(code, 0, out);
    assert.match(out, /^read \d+ bytes, dropped one stream$/m);
  });

  it("takes its thread count from IMGCOPY_LAYER_THREADS, refusing anything but a small whole number", () => {
    assert.equal(layerThreads({ IMGCOPY_LAYER_THREADS: "3" }), 3);
    assert.equal(layerThreads({ IMGCOPY_LAYER_THREADS: "0" }), 0);
    assert.equal(layerThreads({}), 0, "the main thread unless asked");
    for (const bad of ["-1", "two", "1.5", "65"]) {
      assert.throws(() => layerThreads({ IMGCOPY_LAYER_THREADS: bad }), (e: unknown) => isImgcopyError(e) && e.code === "EUSAGE" && e.message.includes(bad));
    }
  });
});
