// commit.timestamp (--timestamp) as buildah commit --timestamp does it: the created time, and the
// mtime of every entry of the container's new layer, whiteouts too; the image's layers stay as stored.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { extract } from "tar-stream";
import { containerCopyTransport } from "../../../transports/container-storage-copy/index.js";
import type { BlobInfo, ImageSource, SystemContext } from "../../../src/types.js";
import {
  buildBaseImage,
  buildChangedContainer,
  buildScratchContainer,
  commitContainer,
  createStore,
  skopeoInspect,
  type Store,
  type StorageDriver,
} from "../../helpers/buildah-store.js";

const SECONDS = 1_000_000;

interface LayerListing {
  digest: string;
  /** "name mtime" of every entry, in order. */
  entries: string[];
}

/** The layer's sha256 and its entries' names and mtimes (seconds), read in one pass. */
async function listLayer(src: ImageSource, info: BlobInfo): Promise<LayerListing> {
  const hash = createHash("sha256");
  const entries: string[] = [];
  const ex = extract();
  ex.on("entry", (header, stream, next) => {
    entries.push(`${header.name} ${Math.floor((header.mtime?.getTime() ?? NaN) / 1000)}`);
    stream.on("end", next);
    stream.resume();
  });
  const blob = await src.getBlob(info);
  blob.stream.on("data", (c: Buffer) => hash.update(c));
  await pipeline(blob.stream, ex);
  return { digest: `sha256:${hash.digest("hex")}`, entries };
}

async function topLayer(store: Store, name: string, ctx: SystemContext): Promise<{ listing: LayerListing; others: BlobInfo[]; created: string }> {
  const src = await containerCopyTransport.parseReference(`${store.bracket}${name}`).newImageSource(ctx);
  try {
    const m = JSON.parse(Buffer.from((await src.getManifest()).bytes).toString()) as { config: { digest: string; size: number } };
    const config = JSON.parse(Buffer.concat(await (await src.getBlob(m.config)).stream.toArray()).toString()) as { created: string };
    const infos = (await src.layerInfosForCopy!())!;
    return { listing: await listLayer(src, infos[infos.length - 1]!), others: infos.slice(0, -1), created: config.created };
  } finally {
    await src.close();
  }
}

for (const driver of ["vfs", "overlay"] as StorageDriver[]) {
  describe(`commit timestamp (${driver})`, () => {
    let store: Store;
    let buildahDiffIds: string[];
    let scratchDiffIds: string[];
    const diffIdsOf = async (name: string): Promise<string[]> =>
      ((await skopeoInspect(store.containersStorageRef(name), ["--config"])) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
    before(async () => {
      store = await createStore(driver);
      const base = await buildBaseImage(store);
      await buildChangedContainer(store, base, "changed");
      await buildScratchContainer(store, "fresh");
      await commitContainer(store, "changed", "localhost/stamped:1", ["--timestamp", String(SECONDS)]);
      await commitContainer(store, "fresh", "localhost/fresh-stamped:1", ["--timestamp", String(SECONDS)]);
      buildahDiffIds = await diffIdsOf("localhost/stamped:1");
      scratchDiffIds = await diffIdsOf("localhost/fresh-stamped:1");
    });
    after(() => store?.cleanup());

    it("stamps every entry of the read-write layer, whiteouts too, as buildah commit --timestamp does", async () => {
      const ours = await topLayer(store, "changed", { commit: { timestamp: new Date(SECONDS * 1000) } });
      const theirs = await topLayer(store, "localhost/stamped:1", {});
      assert.ok(ours.listing.entries.some((e) => e.includes(".wh.")), "the container deletes files: its layer has whiteouts");
      assert.ok(ours.listing.entries.every((e) => e.endsWith(` ${SECONDS}`)), ours.listing.entries.join("\n"));
      assert.deepEqual(ours.listing.entries, theirs.listing.entries);
      assert.equal(ours.created, "1970-01-12T13:46:40Z");
      assert.deepEqual(ours.others.map((i) => i.digest), buildahDiffIds.slice(0, -1), "the image's layers are served as stored");
      // overlay: buildah leaves a stale hard-link name in whiteouts sharing the kernel's whiteout inode; ours have none.
      if (driver === "vfs") assert.equal(ours.listing.digest, buildahDiffIds[buildahDiffIds.length - 1]);
    });

    it("gives a container without deletions the DiffID buildah commit --timestamp gives it", async () => {
      const ours = await topLayer(store, "fresh", { commit: { timestamp: new Date(SECONDS * 1000) } });
      assert.equal(ours.listing.digest, scratchDiffIds[0]);
    });

    it("keeps the files' own mtimes without a timestamp", async () => {
      const plain = await topLayer(store, "changed", {});
      assert.ok(plain.listing.entries.some((e) => !e.endsWith(` ${SECONDS}`)));
    });
  });
}
