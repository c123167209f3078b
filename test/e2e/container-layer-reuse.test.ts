// Exporting an unchanged container again into the same layout reuses its own read-write layer
// too (the layer DiffID cache: fingerprint of the layer's tree -> DiffID), on vfs and overlay;
// a change that keeps size and mtime, a change too recent to trust, and a lying, garbage or
// foreign-writable cache all still give the image a fresh export gives.
import assert from "node:assert/strict";
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { copyImage } from "../../src/index.js";
import type { CopyOptions, ProgressEvent } from "../../src/index.js";
import { SETTLE_MARGIN_NS } from "../../transports/container-storage-copy/layer-fingerprint.js";
import { buildBaseImage, buildChangedContainer, CHANGES, createStore, type StorageDriver, type Store, type WorkingContainer } from "../helpers/buildah-store.js";
import { blobPath, readOciImage, recomputedDiffIds } from "../helpers/oci-layout-read.js";
import { run, tempDir } from "../helpers/tools.js";

const CACHE_FILE = "container-layer-diffids-v1.json";
/** Long enough for every change made so far to be settled (older than the margin) when the next export walks. */
const SETTLE_WAIT_MS = Number(SETTLE_MARGIN_NS / 1_000_000n) + 600;

interface Exported {
  digest: string;
  /** The container's layer was made (a placeholder layer started streaming). */
  made: boolean;
  skipped: string[];
  warnings: string[];
}

for (const driver of ["vfs", "overlay"] as StorageDriver[]) {
  describe(`container layer reuse by fingerprint (${driver})`, () => {
    let work: { path: string; cleanup: () => Promise<void> };
    let store: Store;
    let ctr: WorkingContainer;
    let env: NodeJS.ProcessEnv;
    let n = 0;

    const cachePath = (): string => join(env.XDG_CACHE_HOME as string, "imgcopy", CACHE_FILE);
    const readCache = async (): Promise<{ version: number; layers: Record<string, { diffId: string; size: number }> }> =>
      JSON.parse(await readFile(cachePath(), "utf8")) as { version: number; layers: Record<string, { diffId: string; size: number }> };

    /** Exports the container into `layout` (SOURCE_DATE_EPOCH: equal inputs give equal bytes, real mtimes kept). */
    async function exportTo(layout: string, extra: CopyOptions = {}): Promise<Exported> {
      const out: Exported = { digest: "", made: false, skipped: [], warnings: [] };
      const onProgress = (e: ProgressEvent): void => {
        if (e.kind !== "blob") return;
        if (e.placeholder && e.state === "start") out.made = true;
        if (e.state === "skipped" && e.digest) out.skipped.push(e.digest);
      };
      const warn = (m: string): void => void out.warnings.push(m);
      const result = await copyImage(store.containerCopyRef(ctr.name), `oci:${layout}:t${n++}`, {
        sourceCtx: { env, warn },
        destCtx: { env, warn },
        onProgress,
        ...extra,
      });
      out.digest = result.manifestDigest;
      return out;
    }

    /** A fresh export with no cache at all into a new layout: the image every other export must equal. */
    const reference = async (): Promise<string> => (await exportTo(join(work.path, `fresh-${n}`), { blobInfoCache: false })).digest;

    before(async () => {
      work = await tempDir(`imgcopy-e2e-layer-reuse-${driver}-`);
      env = { ...process.env, XDG_CACHE_HOME: join(work.path, "cache"), SOURCE_DATE_EPOCH: "1700000000" };
      store = await createStore(driver);
      ctr = await buildChangedContainer(store, await buildBaseImage(store));
      await sleep(SETTLE_WAIT_MS);
    });
    after(async () => {
      await store?.cleanup();
      await work?.cleanup();
    });

    it("a second export of the unchanged container does not make its layer again, and gives the same manifest and config bytes", async () => {
      const layout = join(work.path, "same");
      const first = await exportTo(layout);
      assert.ok(first.made, "the first export makes the container's layer");
      const cache = await readCache();
      assert.equal(Object.keys(cache.layers).length, 1, "its DiffID is remembered under one fingerprint");
      const firstImage = await readOciImage(layout, "t0");
      const rwDiffId = firstImage.config.rootfs.diff_ids.at(-1) as string;
      assert.equal(Object.values(cache.layers)[0]?.diffId, rwDiffId);

      const again = await exportTo(layout);
      assert.equal(again.made, false, "the container's layer is not made again");
      assert.ok(again.skipped.includes(rwDiffId), `the layer was reused (skipped: ${again.skipped.join(", ")})`);
      assert.equal(again.skipped.length, 3, "base layers and the container's layer reused");
      assert.equal(again.digest, first.digest);
      const againImage = await readOciImage(layout, "t1");
      assert.equal(againImage.manifest.config.digest, firstImage.manifest.config.digest);
      assert.deepEqual(await readFile(blobPath(layout, againImage.manifestDigest)), await readFile(blobPath(layout, firstImage.manifestDigest)));
      assert.deepEqual(await recomputedDiffIds(layout, againImage), againImage.config.rootfs.diff_ids);
      assert.equal(again.digest, await reference(), "the same image as an export without any cache");
    });

    it("a file rewritten with its size and mtime kept is exported anew; a change too recent to trust is not remembered", async () => {
      const layout = join(work.path, "changed");
      await exportTo(layout);
      assert.equal((await exportTo(layout)).made, false, "unchanged: reused");

      const file = join(ctr.mountPoint, CHANGES.added[0]);
      const before = await stat(file, { bigint: true });
      const old = await readFile(file);
      const replaced = Buffer.from(old.toString("latin1").toUpperCase(), "latin1");
      assert.equal(BigInt(replaced.length), before.size);
      assert.notDeepEqual(replaced, old);
      const stamps = join(work.path, "stamps");
      await writeFile(stamps, "");
      await run("touch", ["-r", file, stamps]); // utimensat: the nanoseconds too
      await writeFile(file, replaced);
      await run("touch", ["-r", stamps, file]);
      const after = await stat(file, { bigint: true });
      assert.equal(after.size, BigInt(before.size));
      assert.equal(after.mtimeNs, (await stat(stamps, { bigint: true })).mtimeNs);
      assert.equal(after.mtimeNs, before.mtimeNs, "size and mtime as before: only the ctime tells");

      const changed = await exportTo(layout);
      assert.ok(changed.made, "the changed layer is made again");
      const image = await readOciImage(layout, `t${n - 1}`);
      assert.deepEqual(await recomputedDiffIds(layout, image), image.config.rootfs.diff_ids);
      // The change is younger than the settle margin: it was not remembered, so the next export makes it again.
      const soon = await exportTo(layout);
      assert.ok(soon.made, "a fingerprint taken right after a change is not remembered");
      assert.equal(soon.digest, changed.digest);
      assert.equal(changed.digest, await reference(), "the same image as an export without any cache");

      await sleep(SETTLE_WAIT_MS);
      await exportTo(layout); // settled now: remembered
      const settled = await exportTo(layout);
      assert.equal(settled.made, false, "once settled, the changed layer is reused");
      assert.equal(settled.digest, changed.digest);
    });

    it("a lying entry (a DiffID the layout lacks, or a lower layer's), a garbage file or one others can write still give the correct image", async () => {
      const layout = join(work.path, "lied-to");
      await exportTo(layout);
      const correct = await exportTo(layout);
      assert.equal(correct.made, false);
      const { layers } = await readCache();
      const image = await readOciImage(layout, `t${n - 1}`);
      const key = Object.keys(layers).find((k) => layers[k]?.diffId === image.config.rootfs.diff_ids.at(-1));
      assert.ok(key, "the container's fingerprint is in the cache");
      const truth = layers[key]!;
      const lie = async (entry: unknown): Promise<void> => writeFile(cachePath(), JSON.stringify({ version: 1, layers: { ...layers, [key]: entry } }), { mode: 0o600 });

      await lie({ diffId: `sha256:${"0".repeat(64)}`, size: truth.size });
      const missing = await exportTo(layout);
      assert.ok(missing.made, "a DiffID the layout does not hold: the layer is made");
      assert.equal(missing.digest, correct.digest);
      assert.ok(missing.warnings.some((w) => w.includes("corrected")), missing.warnings.join("\n"));
      assert.deepEqual((await readCache()).layers[key], truth, "the lying entry was corrected");

      await lie({ diffId: image.config.rootfs.diff_ids[0], size: truth.size });
      const lower = await exportTo(layout);
      assert.ok(lower.made, "a lower layer's DiffID is never taken for the container's layer");
      assert.equal(lower.digest, correct.digest);

      await writeFile(cachePath(), "\u0000garbage{", { mode: 0o600 });
      const garbage = await exportTo(layout);
      assert.ok(garbage.made);
      assert.equal(garbage.digest, correct.digest);
      assert.ok(garbage.warnings.some((w) => w.includes("is corrupt; starting with an empty one")), garbage.warnings.join("\n"));
      assert.equal((await readCache()).version, 1, "the corrupt file was replaced by a good one");

      await lie({ diffId: `sha256:${"1".repeat(64)}`, size: truth.size });
      await chmod(cachePath(), 0o666);
      const foreign = await exportTo(layout);
      assert.ok(foreign.made, "a cache file others can write is not used");
      assert.equal(foreign.digest, correct.digest);
      assert.ok(foreign.warnings.some((w) => w.includes("not using it")), foreign.warnings.join("\n"));
      assert.equal((await readCache()).layers[key]?.diffId, `sha256:${"1".repeat(64)}`, "nor rewritten");
      await chmod(cachePath(), 0o600);
      await lie(truth);

      assert.equal(correct.digest, await reference());
    });

    it("--verify-diffids and a copy without the blob-info cache make the layer from its bytes", async () => {
      const layout = join(work.path, "verify");
      await exportTo(layout);
      assert.equal((await exportTo(layout)).made, false);
      assert.ok((await exportTo(layout, { verifyDiffIds: true })).made);
      assert.ok((await exportTo(layout, { blobInfoCache: false })).made);
    });
  });
}
