// vfs: the read-write layer is the difference between the container's tree and its parent's.
import assert from "node:assert/strict";
import { it } from "node:test";
import { assertSameEntry, isWhiteout, rwLayerDiffSuite } from "./rw-layer-suite.js";

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
  },
);
