// End to end: Ctrl-C while a container's layer is being made on a worker thread. imgcopy stops
// with one line and exit 130, an existing layout is left byte for byte as it was, a new one is
// not created, and the process ends (no worker keeps it alive).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildScratchContainer, createStore, type Store, type WorkingContainer } from "../helpers/buildah-store.js";
import { tempDir } from "../helpers/tools.js";
import { cleanEnv, imgcopy, stderrLines, type CliResult } from "../cli/run-imgcopy.js";

/** Every file under `dir` with its sha256, so a layout can be compared before and after. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out[path] = createHash("sha256").update(await readFile(path)).digest("hex");
  }
  return out;
}

describe("container-copy interrupted while its layer is made on a worker thread", () => {
  let work: { path: string; cleanup: () => Promise<void> };
  let store: Store;
  let ctr: WorkingContainer;
  let existing: string;

  before(async () => {
    work = await tempDir("imgcopy-e2e-interrupt-");
    store = await createStore("vfs");
    ctr = await buildScratchContainer(store);
    // A layout holding an image already (the container before it grew): an interrupted copy must not touch it.
    existing = join(work.path, "existing");
    const made = await imgcopy(["copy", "--quiet", store.containerCopyRef(ctr.name), `oci:${existing}:old`]);
    assert.equal(made.code, 0, made.stderr);
    // 4 GiB of holes: quick to make, and seconds of reading and hashing for the worker.
    const big = join(ctr.mountPoint, "big-sparse");
    await writeFile(big, "");
    await truncate(big, 4 * 1024 ** 3);
  });
  after(async () => {
    await store?.cleanup();
    await work?.cleanup();
  });

  /** Starts the copy, sends SIGINT once its first layer has started, and returns what it did. */
  function interrupted(dest: string, threads: string): Promise<CliResult> {
    let sent = false;
    return imgcopy(["copy", "--dest-oci-accept-uncompressed-layers", store.containerCopyRef(ctr.name), `oci:${dest}:x`], {
      env: cleanEnv("/nonexistent", { IMGCOPY_LAYER_THREADS: threads }),
      onStderr: (text, child) => {
        if (!sent && text.includes("Copying blob")) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    });
  }

  for (const threads of ["1", "2"]) {
    it(`leaves a new destination uncreated and an existing one untouched (${threads} layer thread${threads === "1" ? "" : "s"})`, async () => {
      const fresh = join(work.path, `fresh-${threads}`);
      let r = await interrupted(fresh, threads);
      assert.equal(r.code, 130, r.stderr);
      assert.equal(stderrLines(r).at(-1), "imgcopy: interrupted by SIGINT; the destination was left as it was");
      assert.equal(existsSync(fresh), false, "nothing created");

      const before = await snapshot(existing);
      r = await interrupted(existing, threads);
      assert.equal(r.code, 130, r.stderr);
      assert.deepEqual(await snapshot(existing), before);
    });
  }
});
