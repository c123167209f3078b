import assert from "node:assert/strict";
import { closeSync, readFileSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
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
});
