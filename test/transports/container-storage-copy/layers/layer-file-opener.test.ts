import assert from "node:assert/strict";
import { closeSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, rename, symlink, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isImgcopyError } from "../../../../src/errors.js";
import { LayerDirectory, memberComponents } from "../../../../transports/container-storage-copy/layers/layer-file-opener.js";
import { run, tempDir } from "../../../helpers/tools.js";

const names = (s: string): string[] | undefined => memberComponents(Buffer.from(s))?.map((b) => b.toString());

describe("memberComponents", () => {
  it("resolves ./, //, . and .. that stay inside", () => {
    assert.deepEqual(names("./etc//passwd"), ["etc", "passwd"]);
    assert.deepEqual(names("/etc/./x"), ["etc", "x"]);
    assert.deepEqual(names("a/b/../c"), ["a", "c"]);
  });

  it("refuses names that climb out or name nothing", () => {
    for (const bad of ["../x", "a/../../x", "..", "./", ""]) assert.equal(names(bad), undefined, bad);
  });
});

describe("LayerDirectory.openRegular", () => {
  let tmp: { path: string; cleanup: () => Promise<void> };
  let layer: LayerDirectory;
  before(async () => {
    tmp = await tempDir("imgcopy-opener-");
    const root = join(tmp.path, "layer");
    await mkdir(join(root, "etc"), { recursive: true });
    await writeFile(join(root, "etc/passwd"), "root:x:0:0\n");
    await writeFile(join(tmp.path, "outside"), "secret\n");
    await symlink("/etc", join(root, "hostetc"));
    await symlink("etc", join(root, "inner"));
    await symlink("../outside", join(root, "escape"));
    await run("mkfifo", [join(root, "fifo")]);
    layer = new LayerDirectory(root);
  });
  after(async () => tmp.cleanup());

  async function refusal(name: string): Promise<string> {
    try {
      const f = layer.openRegular(Buffer.from(name), "layer L");
      if (f) closeSync(f.fd);
    } catch (err) {
      assert.ok(isImgcopyError(err), String(err));
      assert.equal(err.code, "ECORRUPT");
      return err.message;
    }
    assert.fail(`${name} was opened`);
  }

  it("opens a regular file by a tar-style name", async () => {
    const f = layer.openRegular(Buffer.from("./etc/passwd"), "layer L");
    assert.ok(f);
    assert.equal(f.size, 11);
    assert.equal(readFileSync(f.fd, "utf8"), "root:x:0:0\n");
    closeSync(f.fd);
  });

  it("returns undefined for a file that is not there", async () => {
    assert.equal(layer.openRegular(Buffer.from("etc/shadow"), "layer L"), undefined);
  });

  it("refuses names that escape, symlinks on the way or at the end, and non-files", async () => {
    assert.match(await refusal("../outside"), /^layer L: \.\.\/outside: the name escapes the layer directory$/);
    assert.match(await refusal("hostetc/passwd"), /goes through a symlink/);
    assert.match(await refusal("inner/passwd"), /goes through a symlink/);
    assert.match(await refusal("escape"), /is a symlink/);
    assert.match(await refusal("fifo"), /is not a regular file/, "a FIFO is refused without blocking");
    assert.match(await refusal("etc"), /is not a regular file/);
  });

  it("keeps the directories of a file open for the next one, and closes them on close()", async () => {
    const root = join(tmp.path, "deep");
    await mkdir(join(root, "a/b/c"), { recursive: true });
    await mkdir(join(root, "a/x"), { recursive: true });
    for (const f of ["a/b/c/1", "a/b/c/2", "a/x/3", "a/b/4", "top"]) await writeFile(join(root, f), f);
    const deep = new LayerDirectory(root);
    const openFds = (): number => readdirSync("/proc/self/fd").length;
    const before = openFds();
    for (const f of ["a/b/c/1", "./a//b/c/2", "a/x/3", "a/b/4", "top", "a/b/c/1"]) {
      const file = deep.openRegular(Buffer.from(f), "layer L");
      assert.ok(file, f);
      assert.equal(readFileSync(file.fd, "utf8"), f.replace(/^\.\/a\/\/b/, "a/b"));
      closeSync(file.fd);
    }
    assert.equal(openFds(), before + 4, "the root and a/b/c stay open for the next file");
    assert.equal(deep.openRegular(Buffer.from("a/b/missing/5"), "layer L"), undefined);
    assert.equal(openFds(), before + 1, "after a miss, only the root stays open");
    deep.close();
    assert.equal(openFds(), before, "close() releases every directory");
  });

  it("keeps at most 32 directories open, however deep the file", async () => {
    const root = join(tmp.path, "very-deep");
    const dirs = Array.from({ length: 40 }, (_, i) => `d${i}`).join("/");
    await mkdir(join(root, dirs), { recursive: true });
    await writeFile(join(root, dirs, "f"), "deep");
    await writeFile(join(root, dirs, "g"), "deeper");
    const deep = new LayerDirectory(root);
    const openFds = (): number => readdirSync("/proc/self/fd").length;
    const before = openFds();
    for (const [name, content] of [["f", "deep"], ["g", "deeper"]] as const) {
      const file = deep.openRegular(Buffer.from(`${dirs}/${name}`), "layer L");
      assert.ok(file);
      assert.equal(readFileSync(file.fd, "utf8"), content);
      closeSync(file.fd);
      assert.equal(openFds(), before + 32);
    }
    deep.close();
    assert.equal(openFds(), before);
  });

  it("never reads through a directory swapped for a symlink after its first file was opened", async () => {
    const root = join(tmp.path, "swap");
    await mkdir(join(root, "d"), { recursive: true });
    await mkdir(join(tmp.path, "elsewhere"), { recursive: true });
    await writeFile(join(root, "d/one"), "one");
    await writeFile(join(root, "d/two"), "two");
    await writeFile(join(tmp.path, "elsewhere/two"), "secret");
    const swapped = new LayerDirectory(root);
    try {
      const first = swapped.openRegular(Buffer.from("d/one"), "layer L");
      assert.ok(first);
      closeSync(first.fd);
      await rename(join(root, "d"), join(root, "d.old"));
      await symlink("../elsewhere", join(root, "d"));
      // The directory opened before is the one read: never the symlink's target.
      const second = swapped.openRegular(Buffer.from("d/two"), "layer L");
      if (second) {
        assert.equal(readFileSync(second.fd, "utf8"), "two");
        closeSync(second.fd);
      }
      swapped.close();
      assert.match(await (async () => {
        try {
          swapped.openRegular(Buffer.from("d/two"), "layer L");
        } catch (err) {
          return String((err as Error).message);
        }
        return "opened";
      })(), /d\/two: the path goes through a symlink$/);
    } finally {
      swapped.close();
      await unlink(join(root, "d"));
    }
  });
});
