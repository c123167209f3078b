// overlay: the read-write layer is its diff/ directory, with the kernel's whiteouts converted.
import assert from "node:assert/strict";
import { it } from "node:test";
import { assertSameEntry, isWhiteout, rwLayerDiffSuite } from "./rw-layer-suite.js";

rwLayerDiffSuite(
  "overlay",
  (ours, theirs) => {
    // The kernel shares one inode among whiteouts; buildah 1.28 then leaves a stale hard-link
    // name in every whiteout after the first. Ours have none (checked in the suite).
    assertSameEntry(ours, theirs, isWhiteout(ours) ? ["linkname"] : []);
  },
  (ctx) => {
    it("marks a directory deleted and re-created as opaque, right after the directory", () => {
      const names = ctx().ours.map((e) => e.name);
      const at = names.indexOf("redo/");
      assert.ok(at >= 0);
      assert.equal(names[at + 1], "redo/.wh..wh..opq");
      assert.ok(!names.includes("redo/.wh.old1"), "the opaque marker replaces per-file whiteouts");
      assert.ok(names.includes("swap/.wh..wh..opq"), "a directory that replaced a lower file is opaque too");
    });

    it("does not mark a new directory that no lower layer has", () => {
      assert.ok(!ctx().ours.some((e) => e.name === "xattr/.wh..wh..opq" || e.name === "links/.wh..wh..opq"));
    });
  },
);
