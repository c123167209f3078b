// Exporting the same container again into the same layout reuses its compressed base layers
// (from the layout's own images and the blob-info cache), and gives the same bytes as without
// them; a corrupt or lying cache still gives a correct image.
import assert from "node:assert/strict";
import { cp, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { copyImage } from "../../src/index.js";
import type { CopyOptions, ProgressEvent } from "../../src/index.js";
import { buildBaseImage, buildChangedContainer, createStore, type Store, type WorkingContainer } from "../helpers/buildah-store.js";
import { readOciImage, recomputedDiffIds } from "../helpers/oci-layout-read.js";
import { tempDir } from "../helpers/tools.js";
import { SETTLE_MARGIN_NS } from "../../transports/container-storage-copy/layer-fingerprint.js";

const CACHE_FILE = "blob-info-cache-v1.json";

describe("blob-info cache and reuse by DiffID (container-copy -> oci)", () => {
  let work: { path: string; cleanup: () => Promise<void> };
  let store: Store;
  let ctr: WorkingContainer;
  let cacheHome: string;
  let n = 0;

  /** Exports the container (a fixed timestamp, so equal inputs give equal bytes); returns the manifest digest and the layers skipped. */
  async function exportTo(layout: string, extra: CopyOptions = {}, warnings: string[] = []): Promise<{ digest: string; skipped: number }> {
    let skipped = 0;
    const onProgress = (e: ProgressEvent): void => {
      if (e.kind === "blob" && e.state === "skipped") skipped++;
    };
    const warn = (m: string): void => void warnings.push(m);
    const dest = layout.startsWith("dir:") ? layout : `oci:${layout}:t${n++}`;
    const result = await copyImage(store.containerCopyRef(ctr.name), dest, {
      sourceCtx: { env: { ...process.env, XDG_CACHE_HOME: cacheHome }, commit: { timestamp: new Date(1_700_000_000_000) } },
      destCtx: { env: { ...process.env, XDG_CACHE_HOME: cacheHome }, warn },
      onProgress,
      ...extra,
    });
    return { digest: result.manifestDigest, skipped };
  }

  before(async () => {
    work = await tempDir("imgcopy-e2e-cache-");
    cacheHome = join(work.path, "cache");
    store = await createStore("vfs");
    ctr = await buildChangedContainer(store, await buildBaseImage(store));
    // Settled, the container's own layer is remembered by its fingerprint and reused too (see container-layer-reuse.test.ts).
    await sleep(Number(SETTLE_MARGIN_NS / 1_000_000n) + 600);
  });
  after(async () => {
    await store?.cleanup();
    await work?.cleanup();
  });

  it("reuses the base layers on the second export into the same layout, with the same bytes as an export without the cache", async () => {
    const layout = join(work.path, "same");
    const first = await exportTo(layout);
    assert.equal(first.skipped, 0);
    const again = await exportTo(layout);
    assert.equal(again.skipped, 3, "both base layers reused, and the unchanged container's layer");
    assert.equal(again.digest, first.digest);
    const plain = await exportTo(join(work.path, "no-cache"), { blobInfoCache: false });
    assert.equal(plain.skipped, 0);
    assert.equal(plain.digest, first.digest, "byte-identical with and without reuse");
    const image = await readOciImage(layout, "t1");
    assert.deepEqual(await recomputedDiffIds(layout, image), image.config.rootfs.diff_ids);
    const cache = JSON.parse(await readFile(join(cacheHome, "imgcopy", CACHE_FILE), "utf8")) as { locations: Record<string, unknown> };
    assert.ok(Object.keys(cache.locations).some((l) => l.endsWith(layout)), "the layout is remembered");
  });

  it("reuses a blob the cache names in a layout with no image using it, once decompressing it proved its DiffID", async () => {
    const source = join(work.path, "same");
    const layout = join(work.path, "blobs-only");
    const warnings: string[] = [];
    // The layout holds the blobs but no index entry: only the cache can point at them.
    await mkdir(join(layout, "blobs"), { recursive: true });
    await cp(join(source, "blobs", "sha256"), join(layout, "blobs", "sha256"), { recursive: true });
    await writeFile(join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const image = await readOciImage(source, "t0");
    const cachePath = join(cacheHome, "imgcopy", CACHE_FILE);
    const cache = JSON.parse(await readFile(cachePath, "utf8")) as { locations: Record<string, Record<string, unknown>> };
    const real = (await import("node:fs/promises")).realpath;
    const entries: Record<string, unknown> = {};
    image.config.rootfs.diff_ids.forEach((diffId, i) => {
      const layer = image.manifest.layers[i]!;
      entries[diffId] = [{ digest: layer.digest, size: layer.size, algorithm: "gzip" }];
    });
    cache.locations[`oci:${await real(layout)}`] = entries;
    await writeFile(cachePath, JSON.stringify({ version: 1, locations: cache.locations }));
    const result = await exportTo(layout, {}, warnings);
    assert.equal(result.skipped, 3, "every layer came from the cache's candidates");
    assert.equal(result.digest, (await exportTo(join(work.path, "no-cache-2"), { blobInfoCache: false })).digest);
    assert.deepEqual(warnings, []);
  });

  it("a cache that lies (another layer's blob under a DiffID) or is garbage still gives the correct image", async () => {
    const reference = (await exportTo(join(work.path, "reference"), { blobInfoCache: false })).digest;
    const source = join(work.path, "same");
    const image = await readOciImage(source, "t0");
    const layout = join(work.path, "lied-to");
    await mkdir(join(layout, "blobs"), { recursive: true });
    await cp(join(source, "blobs", "sha256"), join(layout, "blobs", "sha256"), { recursive: true });
    await writeFile(join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const [d0, d1] = image.config.rootfs.diff_ids;
    const [l0, l1, l2] = image.manifest.layers;
    const cachePath = join(cacheHome, "imgcopy", CACHE_FILE);
    const real = (await import("node:fs/promises")).realpath;
    // Each base DiffID points at a blob that exists with the stated size but holds another layer.
    const lies = { [d0!]: [{ digest: l1!.digest, size: l1!.size, algorithm: "gzip" }], [d1!]: [{ digest: l2!.digest, size: l2!.size, algorithm: "gzip" }, { digest: l0!.digest, size: l0!.size + 1, algorithm: "gzip" }] };
    await writeFile(cachePath, JSON.stringify({ version: 1, locations: { [`oci:${await real(layout)}`]: lies } }));
    const lied = await exportTo(layout);
    assert.equal(lied.skipped, 0, "no lying candidate was used");
    assert.equal(lied.digest, reference);

    await writeFile(cachePath, "\u0000garbage{");
    const warnings: string[] = [];
    const garbage = await exportTo(join(work.path, "after-garbage"), {}, warnings);
    assert.equal(garbage.digest, reference);
    assert.ok(warnings.some((w) => w.includes("is corrupt; starting with an empty one")), warnings.join("\n"));
    const rewritten = JSON.parse(await readFile(cachePath, "utf8")) as { version: number };
    assert.equal(rewritten.version, 1, "the corrupt file was replaced by a good one");
    assert.ok((await readdir(join(cacheHome, "imgcopy"))).every((f) => f === CACHE_FILE || f === "container-layer-diffids-v1.json"), "no temp files left");
  });

  it("dir: exporting again with --dest-compress copies the replaced image's compressed base layers instead of compressing them", async () => {
    const dir = `dir:${join(work.path, "as-dir")}`;
    const first = await exportTo(dir, { compress: true });
    assert.equal(first.skipped, 0);
    const again = await exportTo(dir, { compress: true });
    assert.equal(again.skipped, 3);
    assert.equal(again.digest, first.digest);
    const image = JSON.parse(await readFile(join(work.path, "as-dir", "manifest.json"), "utf8")) as { layers: { digest: string }[] };
    for (const layer of image.layers) await readFile(join(work.path, "as-dir", layer.digest.slice(7))); // every blob is in the new image
    assert.equal((await exportTo(`dir:${join(work.path, "as-dir-plain")}`, { compress: true, blobInfoCache: false })).digest, first.digest);
  });
});
