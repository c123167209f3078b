// SIGINT/SIGTERM during a copy: the copy is aborted, the destination is left as it was, and the exit
// code says which signal it was. The stalling test plugin keeps the copy in flight until then.
import assert from "node:assert/strict";
import { mkdir, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tempDir } from "../helpers/tools.js";
import { fixturePlugin, imgcopy, stderrLines } from "./run-imgcopy.js";

let work: { path: string; cleanup: () => Promise<void> };
before(async () => {
  work = await tempDir();
});
after(async () => {
  await work.cleanup();
});

/** Starts a copy from the stalling source, sends `signal` `delayMs` after a blob is under way, returns the result. */
async function interruptedCopy(signal: NodeJS.Signals, dest: string, delayMs = 0) {
  let sent = false;
  return imgcopy(["--plugin", fixturePlugin("stalling-source"), "--progress", "json", "stall:x", dest], {
    onStderr: (text, child) => {
      if (!sent && text.includes('"kind":"blob"')) {
        sent = true;
        setTimeout(() => child.kill(signal), delayMs);
      }
    },
  });
}

describe("interrupting a copy", () => {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it(`${signal} aborts the copy, leaves no destination and exits ${code}`, async () => {
      const parent = join(work.path, signal);
      await mkdir(parent);
      const r = await interruptedCopy(signal, `dir:${join(parent, "out")}`);
      assert.equal(r.code, code, r.stderr);
      const last = stderrLines(r).at(-1)!;
      assert.equal(last, `imgcopy: interrupted by ${signal}; the destination was left as it was`);
      assert.equal(r.stdout, "");
      const left = await readdir(parent).catch(() => []);
      assert.deepEqual(left, [], `nothing left behind in ${parent}`);
    });
  }

  it("SIGINT well after the copy stalled (nothing else keeps the process alive) still aborts cleanly, exit 130", async () => {
    const parent = join(work.path, "late");
    await mkdir(parent);
    const r = await interruptedCopy("SIGINT", `dir:${join(parent, "out")}`, 1500);
    assert.equal(r.code, 130, r.stderr);
    assert.equal(stderrLines(r).at(-1), "imgcopy: interrupted by SIGINT; the destination was left as it was");
    assert.deepEqual(await readdir(parent).catch(() => []), [], `nothing left behind in ${parent}`);
  });

  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it(`${signal} during the final write: says the copy was already committed and exits ${code}`, async () => {
      const marker = join(work.path, `committed-${signal}`);
      let sent = false;
      const r = await imgcopy(["--plugin", fixturePlugin("slow-commit"), "slowcommit:src", `slowcommit:${marker}`], {
        onStderr: (text, child) => {
          if (!sent && text.includes(": committing")) {
            sent = true;
            child.kill(signal);
          }
        },
      });
      assert.ok(sent, r.stderr);
      assert.equal(r.code, code, r.stderr);
      assert.equal(await readFile(marker, "utf8"), "committed\n", "the commit under way was finished, not cut");
      assert.equal(
        stderrLines(r).at(-1),
        `imgcopy: interrupted by ${signal} while the image was being written: the copy to slowcommit:${marker} was already committed and is complete`,
      );
    });
  }
});
