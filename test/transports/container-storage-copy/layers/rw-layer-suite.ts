// The checks every driver's read-write layer tar must pass, against the real tools: umoci applies
// it on the base image (from skopeo) and the result must be the container's merged view (buildah
// mount); its entries must be those buildah commit writes; without deletions, its bytes must be.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { openLayerStream } from "../../../../transports/container-storage-copy/layers/index.js";
import type { StorageDriver } from "../../../../transports/container-storage-copy/store/record-types.js";
import { BuildahStore } from "./buildah-store.js";
import { copyToLayout, layerTar, unpackWithLayer } from "./oci-layout.js";
import { BASE_IMAGE, BIG_SIZE, buildBaseImage, buildRwContainer, LONG_BASENAME, LONG_DIR, type RwScenario, UNICODE_DIR } from "./rw-layer-scenario.js";
import { type ListedEntry, listTar } from "./tar-listing.js";
import { compareTrees, formatDifferences, snapshotTree } from "../../../helpers/tree-compare.js";

export interface RwLayerContext {
  store: BuildahStore;
  scenario: RwScenario;
  /** Our tar of the scenario container's read-write layer. */
  tarPath: string;
  ours: ListedEntry[];
  /** The entries of the layer buildah commit made from the same container. */
  committed: ListedEntry[];
  warnings: string[];
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  await pipeline(createReadStream(path), h);
  return `sha256:${h.digest("hex")}`;
}

const isWhiteout = (e: ListedEntry): boolean => /(^|\/)\.wh\.[^/]*$/.test(e.name);

/**
 * Defines the shared tests for `driver`; `driverSpecific` adds the driver's own, with the
 * built context. `compareCommitted` says which fields of which entries may differ from buildah's.
 */
export function rwLayerDiffSuite(
  driver: StorageDriver,
  compareCommitted: (ours: ListedEntry, theirs: ListedEntry) => void,
  driverSpecific: (ctx: () => RwLayerContext) => void,
): void {
  describe(`read-write layer tar (${driver})`, () => {
    let ctx: RwLayerContext;
    before(async () => {
      const store = await BuildahStore.create(driver);
      try {
        await buildBaseImage(store);
        const scenario = await buildRwContainer(store, true);
        const warnings: string[] = [];
        const tarPath = join(store.dir, "rw.tar");
        await pipeline(await openLayerStream(await store.streamInput(scenario.rwLayerId, { warn: (m) => warnings.push(m) })), createWriteStream(tarPath));
        await store.commit(scenario.containerId, "localhost/committed:1");
        const layout = join(store.dir, "layout");
        await copyToLayout(store, "localhost/committed:1", layout, "committed");
        await copyToLayout(store, BASE_IMAGE, layout, "base");
        ctx = {
          store, scenario, tarPath, warnings,
          ours: await listTar(createReadStream(tarPath)),
          committed: await listTar(await layerTar(layout, "committed", -1)),
        };
      } catch (err) {
        await store.cleanup();
        throw err;
      }
    });
    after(async () => ctx?.store.cleanup());

    it("applied by umoci on the base image, gives the container's merged view", async () => {
      const layout = join(ctx.store.dir, "layout");
      const rootfs = await unpackWithLayer(layout, "base", ctx.tarPath, "ours", join(ctx.store.dir, "bundle"));
      const diffs = await compareTrees(rootfs, ctx.scenario.mount, { ignoreRoot: true });
      assert.deepEqual(diffs, [], formatDifferences(diffs));
      assert.ok((await snapshotTree(ctx.scenario.mount)).size > 30, "the scenario is not trivially small");
    });

    it("has the entries buildah commit writes for the same container, in the same order", () => {
      assert.deepEqual(ctx.ours.map((e) => e.name), ctx.committed.map((e) => e.name));
      ctx.ours.forEach((e, i) => compareCommitted(e, ctx.committed[i] as ListedEntry));
    });

    it("carries every kind of entry the scenario made", () => {
      const byName = new Map(ctx.ours.map((e) => [e.name, e]));
      const get = (name: string): ListedEntry => {
        const e = byName.get(name);
        assert.ok(e, `${name} is in the tar`);
        return e;
      };
      assert.equal(get("big.bin").size, BIG_SIZE);
      assert.equal(get("hl/two").type, "link");
      assert.equal(get("hl/two").linkname, "hl/one");
      assert.equal(get("usr/bin/suid").mode, 0o104755);
      assert.equal(get("perm.txt").mode, 0o100600);
      assert.deepEqual([get("own.txt").uid, get("own.txt").gid], [1000, 1000]);
      assert.equal(get("fifo").type, "fifo");
      assert.deepEqual([get("dev/null-copy").type, get("dev/null-copy").devmajor, get("dev/null-copy").devminor], ["character-device", 1, 3]);
      assert.equal(get("links/dangling").linkname, "/nonexistent/target");
      assert.equal(get("links/rel").linkname, "../etc/keep.txt");
      assert.equal(get("xattr/file").xattrs["user.test"], "hello");
      assert.equal(get("xattr/").xattrs["user.dirattr"], "on a directory");
      assert.ok("security.capability" in get("usr/bin/capped").xattrs);
      get(`${LONG_DIR}/${LONG_BASENAME}`);
      get(`${UNICODE_DIR}/名前.txt`);
      for (const w of ["etc/.wh.gone.txt", ".wh.deldir"]) assert.equal(get(w).size, 0);
      assert.ok(!ctx.ours.some((e) => e.name.startsWith("deldir/")), "a deleted directory is not descended into");
      assert.ok(!ctx.ours.some((e) => e.name === "etc/keep.txt"), "an unchanged file is not in the layer");
      for (const w of ctx.ours.filter(isWhiteout)) assert.deepEqual([w.type, w.linkname], ["file", ""], `${w.name} is a plain file`);
    });

    it("is the same bytes every time", async () => {
      const again = join(ctx.store.dir, "again.tar");
      await pipeline(await openLayerStream(await ctx.store.streamInput(ctx.scenario.rwLayerId)), createWriteStream(again));
      assert.equal(await sha256File(again), await sha256File(ctx.tarPath));
    });

    it("is bit-for-bit buildah commit's layer when nothing was deleted", async () => {
      const c = await buildRwContainer(ctx.store, false);
      const path = join(ctx.store.dir, "no-deletions.tar");
      await pipeline(await openLayerStream(await ctx.store.streamInput(c.rwLayerId)), createWriteStream(path));
      const image = await ctx.store.commit(c.containerId, "localhost/no-deletions:1");
      const [top] = await ctx.store.chain(await ctx.store.imageTopLayer(image));
      assert.equal(await sha256File(path), top?.["diff-digest"]);
    });

    it("replays the committed image's layers bit-for-bit (tar-split with PAX, long names, 50 MB)", async () => {
      const images = await ctx.store.images();
      const committed = images.find((i) => i.names?.includes("localhost/committed:1"));
      assert.ok(committed?.layer);
      for (const layer of await ctx.store.chain(committed.layer)) {
        const h = createHash("sha256");
        let size = 0;
        for await (const chunk of await openLayerStream(await ctx.store.streamInput(layer.id))) {
          h.update(chunk as Buffer);
          size += (chunk as Buffer).length;
        }
        assert.equal(`sha256:${h.digest("hex")}`, layer["diff-digest"]);
        assert.equal(size, layer["diff-size"]);
      }
    });

    it("warns about nothing when the xattr addon is present", () => {
      assert.deepEqual(ctx.warnings, []);
    });

    driverSpecific(() => ctx);
  });
}

/** Every field buildah writes, except those named in `ignoredFields`. */
export function assertSameEntry(ours: ListedEntry, theirs: ListedEntry, ignoredFields: ReadonlyArray<keyof ListedEntry> = []): void {
  const pick = (e: ListedEntry): Partial<ListedEntry> => Object.fromEntries(Object.entries(e).filter(([k]) => !ignoredFields.includes(k as keyof ListedEntry)));
  assert.deepEqual(pick(ours), pick(theirs), ours.name);
}

export { isWhiteout };
