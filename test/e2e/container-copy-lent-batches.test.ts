// End to end: a gzip export whose layers are many producer batches (a tar-split replay and a diff,
// each tens of MiB, deflate the slow stage so that batches queue up), where the gzip stage gives
// every batch back to be refilled. The blobs must still be exactly the layers: gzip -t, each one's
// DiffID recomputed, the replayed layer's equal to the store's diff-digest, and umoci's unpack equal
// to the container's files.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { commitContainer, createStore, pseudoRandom, skopeoInspect, type Store } from "../helpers/buildah-store.js";
import { blobPath, readOciImage, recomputedDiffIds, type ImageConfig } from "../helpers/oci-layout-read.js";
import { compareTrees, formatDifferences, unpackWithUmoci } from "../helpers/tree-compare.js";
import { run, tempDir } from "../helpers/tools.js";
import { imgcopy } from "../cli/run-imgcopy.js";

/** Compressible text of `size` bytes, different for each seed (slow to deflate, unlike zeros). */
function text(size: number, seed: number): Buffer {
  const words = ["layer", "batch", "gzip", "tar", "store", "blob", "digest", "config", "manifest", "container"];
  const parts: string[] = [];
  let length = 0;
  let x = seed;
  while (length < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    const line = `${words[x % 10]} ${words[(x >>> 8) % 10]} ${x.toString(36)} ${length}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join("")).subarray(0, size);
}

/** Big text files, random stretches and many small files under `root`: tens of producer batches. */
async function fill(root: string, tag: string, seed: number): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const path = join(root, tag, `text-${i}.log`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text(5 * 1024 * 1024 + i * 77_777, seed + i));
  }
  await pipeline(pseudoRandom(3 * 1024 * 1024 + 999, `${tag}-random`), createWriteStream(join(root, tag, "random.bin")));
  for (let i = 0; i < 300; i++) {
    await writeFile(join(root, tag, `small-${i}.txt`), text(100 + ((i * 997) % 9000), seed * 1000 + i));
  }
}

describe("container-copy to gzip with batches given back and refilled", () => {
  let store: Store;
  let work: { path: string; cleanup: () => Promise<void> };
  let mountPoint: string;
  const image = "localhost/batches:1";

  before(async () => {
    work = await tempDir("imgcopy-e2e-batches-");
    store = await createStore("vfs");
    const stage = await store.buildah(["from", "--name", "batches-stage", "scratch"]);
    await fill(await store.buildah(["mount", stage]), "base", 1);
    await commitContainer(store, stage, image, ["--rm"]);
    await store.buildah(["from", "--pull=never", "--name", "batches-ctr", image]);
    mountPoint = await store.buildah(["mount", "batches-ctr"]);
    await fill(mountPoint, "top", 2);
  });
  after(async () => {
    await store?.cleanup();
    await work?.cleanup();
  });

  it("writes gzip blobs that are exactly the layers the store holds and the container shows", async () => {
    const out = join(work.path, "oci");
    const r = await imgcopy(["copy", "--quiet", store.containerCopyRef("batches-ctr"), `oci:${out}:x`]);
    assert.equal(r.code, 0, r.stderr);
    const exported = await readOciImage(out, "x");
    assert.equal(exported.manifest.layers.length, 2);
    for (const layer of exported.manifest.layers) {
      assert.equal(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
      assert.ok(layer.size > 2 * 1024 * 1024, `layer of ${layer.size} bytes: many batches`);
      await run("gzip", ["-t", blobPath(out, layer.digest)]);
    }
    const diffIds = exported.config.rootfs.diff_ids;
    assert.deepEqual(await recomputedDiffIds(out, exported), diffIds);
    const stored = (await skopeoInspect(store.containersStorageRef(image), ["--config"])) as unknown as ImageConfig;
    assert.deepEqual(diffIds.slice(0, 1), stored.rootfs.diff_ids, "the replayed layer is the store's");
    const rootfs = await unpackWithUmoci(out, "x", join(work.path, "unpacked"));
    const diffs = await compareTrees(mountPoint, rootfs, { ignoreRoot: true });
    assert.deepEqual(diffs, [], `the exported image differs from the container:\n${formatDifferences(diffs)}`);
  });
});
