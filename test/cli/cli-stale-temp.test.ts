// Leftovers of a SIGKILLed copy: the blob temp files in an oci layout and the staging folder of a
// dir: destination are removed by a later write, once their process is gone and they have not
// changed for a few minutes (src/stale-temp.ts); a live writer's are kept.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BuildahStore } from "../copy/buildah-store.js";
import { tempDir } from "../helpers/tools.js";
import { STALE_AFTER_MS } from "../../src/stale-temp.js";
import { fixturePlugin, imgcopy } from "./run-imgcopy.js";

let work: { path: string; cleanup: () => Promise<void> };
let src: string;

before(async () => {
  work = await tempDir();
  const store = new BuildahStore(join(work.path, "store"));
  await store.makeImage("localhost/st", { files: { "a.txt": "a\n" } });
  src = `oci:${join(work.path, "src")}:t`;
  await store.push("localhost/st", src);
});
after(async () => {
  await work?.cleanup();
});

/** Starts a copy from the stalling source to `dest` and SIGKILLs it once a blob is being written; resolves with its pid. */
async function killedCopy(dest: string): Promise<number> {
  let pid = 0;
  let sent = false;
  const r = await imgcopy(["--plugin", fixturePlugin("stalling-source"), "--progress", "json", "stall:x", dest], {
    onStderr: (text, child) => {
      if (!sent && text.includes('"kind":"blob"')) {
        sent = true;
        pid = child.pid!;
        setTimeout(() => child.kill("SIGKILL"), 300);
      }
    },
  });
  assert.equal(r.signal, "SIGKILL", r.stderr);
  return pid;
}

/** Moves an entry's (and its children's) mtime back by more than STALE_AFTER_MS, as time passing would. */
async function age(path: string, children: string[] = []): Promise<void> {
  const then = new Date(Date.now() - STALE_AFTER_MS - 60_000);
  for (const c of children) await utimes(join(path, c), then, then);
  await utimes(path, then, then);
}

describe("leftovers of a killed copy", () => {
  it("oci: a later write removes .imgcopy-blob-PID-* of a dead process once stale; a live process's stay", async () => {
    const layout = join(work.path, "layout");
    assert.equal((await imgcopy(["-q", src, `oci:${layout}:a`])).code, 0);
    const pid = await killedCopy(`oci:${layout}:s`);
    const left = (await readdir(layout)).filter((n) => n.startsWith(`.imgcopy-blob-${pid}-`));
    assert.equal(left.length, 1, `the killed copy left its temp file: ${(await readdir(layout)).join(" ")}`);
    const live = `.imgcopy-blob-1-livewriter`; // pid 1 is alive: never removed
    await writeFile(join(layout, live), "x");
    await age(join(layout, live));

    assert.equal((await imgcopy(["-q", src, `oci:${layout}:b`])).code, 0);
    assert.ok((await readdir(layout)).includes(left[0]!), "a fresh leftover is kept (it may belong to a writer we cannot see)");

    await age(join(layout, left[0]!));
    assert.equal((await imgcopy(["-q", src, `oci:${layout}:c`])).code, 0);
    const now = await readdir(layout);
    assert.ok(!now.includes(left[0]!), "the stale leftover of a dead process is removed");
    assert.ok(now.includes(live), "a live process's temp file is kept");
  });

  it("dir: a later write to the same image directory removes a dead copy's staging folder once stale", async () => {
    const parent = join(work.path, "dirs");
    await mkdir(parent);
    const pid = await killedCopy(`dir:${join(parent, "img")}`);
    const left = (await readdir(parent)).filter((n) => n.startsWith(`.img.tmp-${pid}-`));
    assert.equal(left.length, 1, `the killed copy left its staging folder: ${(await readdir(parent)).join(" ")}`);
    const staging = join(parent, left[0]!);
    await age(staging, await readdir(staging));
    assert.equal((await imgcopy(["-q", src, `dir:${join(parent, "img")}`])).code, 0);
    assert.deepEqual(await readdir(parent), ["img"]);
    assert.equal(spawnSync("kill", ["-0", String(pid)]).status === 0, false, "the pid is indeed gone");
  });
});
