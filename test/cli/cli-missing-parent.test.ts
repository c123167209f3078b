// A dir:, oci: or docker-archive: destination whose parent directory is missing is refused with one
// line, as skopeo 1.9.3 refuses it (a typo must not create trees), and nothing is created.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BuildahStore } from "../copy/buildah-store.js";
import { run, tempDir } from "../helpers/tools.js";
import { imgcopy, stderrLines } from "./run-imgcopy.js";

let work: { path: string; cleanup: () => Promise<void> };
let src: string;

before(async () => {
  work = await tempDir();
  const store = new BuildahStore(join(work.path, "store"));
  await store.makeImage("localhost/mp", { files: { "a.txt": "a\n" } });
  src = `oci:${join(work.path, "src")}:t`;
  await store.push("localhost/mp", src);
});
after(async () => {
  await work?.cleanup();
});

describe("a destination whose parent directory is missing", () => {
  for (const [transport, leaf] of [["dir", "img"], ["oci", "layout"], ["docker-archive", "img.tar"]] as const) {
    it(`${transport}: refused with one line, nothing created (skopeo refuses too)`, async () => {
      const parent = join(work.path, `missing-${transport}`, "deeper");
      const path = join(parent, leaf);
      const dest = `${transport}:${path}${transport === "oci" ? ":t" : ""}`;
      await assert.rejects(run("skopeo", ["copy", "-q", src, dest]), "skopeo refuses it");
      const r = await imgcopy(["-q", src, dest]);
      assert.notEqual(r.code, 0);
      assert.deepEqual(stderrLines(r), [`imgcopy: ${dest}: directory ${parent} does not exist (create it first; imgcopy does not create missing parents)`]);
      assert.equal(existsSync(join(work.path, `missing-${transport}`)), false, "no folder created");
    });
  }

  it("a parent that is a file is refused with one line", async () => {
    const file = join(work.path, "a-file");
    await writeFile(file, "x");
    const r = await imgcopy(["-q", src, `dir:${join(file, "img")}`]);
    assert.notEqual(r.code, 0);
    assert.deepEqual(stderrLines(r), [`imgcopy: dir:${join(file, "img")}: ${file} is not a directory`]);
    const before = await readdir(work.path);
    assert.ok(before.every((n) => !n.startsWith(".a-file")));
  });

  it("a parent where nothing can be created (/proc) is named in one line, for each transport", async () => {
    for (const dest of ["dir:/proc/imgcopy-x", "oci:/proc/imgcopy-x:t", "docker-archive:/proc/imgcopy-x.tar"]) {
      const r = await imgcopy(["-q", src, dest]);
      assert.notEqual(r.code, 0, dest);
      assert.deepEqual(stderrLines(r), [`imgcopy: ${dest}: cannot create files in /proc (the file system there does not allow it)`]);
    }
  });
});
