// vfs: the read-write layer is the difference between the container's tree and its parent's.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { it } from "node:test";
import { fingerprintLayer } from "../../../../transports/container-storage-copy/layer-fingerprint.js";
import { openLayerStream } from "../../../../transports/container-storage-copy/layers/index.js";
import { TreeListing } from "../../../../transports/container-storage-copy/layers/tree-listing.js";
import { assertSameEntry, isWhiteout, rwLayerDiffSuite } from "./rw-layer-suite.js";
import { listTar } from "./tar-listing.js";

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

async function tarBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

rwLayerDiffSuite(
  "vfs",
  // buildah stamps vfs whiteouts with the time of the commit; we use their directory's mtime.
  (ours, theirs) => assertSameEntry(ours, theirs, isWhiteout(ours) ? ["mtime"] : []),
  (ctx) => {
    it("writes a re-created directory's old entries as whiteouts, and no opaque marker", () => {
      const names = ctx().ours.map((e) => e.name);
      assert.ok(names.includes("redo/.wh.old1") && names.includes("redo/.wh.old2"));
      assert.ok(!names.some((n) => n.endsWith(".wh..wh..opq")));
    });

    it("stamps whiteouts with their directory's mtime and mode 0, owner 0:0", () => {
      const ours = ctx().ours;
      const whiteout = ours.find((e) => e.name === "etc/.wh.gone.txt");
      const dir = ours.find((e) => e.name === "etc/");
      assert.deepEqual([whiteout?.mode, whiteout?.uid, whiteout?.gid], [0, 0, 0]);
      assert.equal(whiteout?.mtime, dir?.mtime);
    });

    it("gives the same bytes from the fingerprint walk's listing of the container's tree", async () => {
      const { store, scenario } = ctx();
      const input = await store.streamInput(scenario.rwLayerId);
      const listing = new TreeListing();
      await fingerprintLayer({ ...input, mtime: undefined }, listing);
      assert.ok(listing.directory("etc")?.names.includes("mod.txt"), "the walk listed the container's tree");
      const fromListing = await tarBytes(await openLayerStream({ ...input, treeListing: listing }));
      assert.equal(sha256(fromListing), sha256(await readFile(ctx().tarPath)));
      assert.equal(listing.directory(""), undefined, "the diff released the listing once it was done with it");
      // A second diff from the same (now released) input walks the tree itself, and gives the same bytes.
      const again = await tarBytes(await openLayerStream({ ...input, treeListing: listing }));
      assert.equal(sha256(again), sha256(fromListing));
    });

    it("takes the new tree from the listing, not from the disk, when given one", async () => {
      const { store, scenario } = ctx();
      const input = await store.streamInput(scenario.rwLayerId);
      const listing = new TreeListing();
      await fingerprintLayer({ ...input, mtime: undefined }, listing);
      const etc = listing.directory("etc");
      const index = etc?.names.indexOf("keep.txt") ?? -1;
      const kept = etc && index >= 0 ? listing.facts(etc, index) : null;
      assert.ok(etc && kept, "etc/keep.txt (unchanged from the base) is in the listing");
      // The listing says the unchanged file grew: the diff must believe it and write the file.
      listing.setEntry(etc, index, { ...kept, size: kept.size + 1 });
      const names = (await listTar(await openLayerStream({ ...input, treeListing: listing }))).map((e) => e.name);
      assert.ok(names.includes("etc/keep.txt"), names.join(" "));
      assert.ok(!ctx().ours.some((e) => e.name === "etc/keep.txt"), "without the listing the file is not in the layer");
    });
  },
);
