import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setAttribute } from "fs-xattr";
import { isExportedXattr, XattrReader } from "../../../../transports/container-storage-copy/layers/xattr-reader.js";
import { tempDir } from "../../../helpers/tools.js";

describe("isExportedXattr", () => {
  it("keeps file capabilities, IMA and user xattrs, not overlay's own or trusted/selinux ones", () => {
    for (const yes of ["security.capability", "security.ima", "user.a", "user.mime_type"]) assert.ok(isExportedXattr(yes), yes);
    for (const no of ["trusted.overlay.opaque", "user.overlay.origin", "user.fuseoverlayfs.opaque", "user.containers.override_stat", "security.selinux", "system.posix_acl_access"]) {
      assert.ok(!isExportedXattr(no), no);
    }
  });
});

describe("XattrReader", () => {
  let tmp: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir("imgcopy-xattr-");
    await mkdir(join(tmp.path, "d"));
    await writeFile(join(tmp.path, "f"), "x");
    await setAttribute(join(tmp.path, "f"), "user.b", "2");
    await setAttribute(join(tmp.path, "f"), "user.a", "1");
    await setAttribute(join(tmp.path, "f"), "trusted.overlay.opaque", "y");
  });
  after(async () => tmp.cleanup());

  it("reads the exported xattrs of a file, sorted by name", async () => {
    const warnings: string[] = [];
    const reader = await XattrReader.open((m) => warnings.push(m), "layer L");
    const path = Buffer.from(join(tmp.path, "f"));
    const all = reader.names(path);
    assert.ok(all.includes("trusted.overlay.opaque"), "root sees trusted.* (for opaque directories)");
    assert.deepEqual(reader.exported(path, all).map(([k, v]) => `${k}=${v.toString()}`), ["user.a=1", "user.b=2"]);
    assert.deepEqual(warnings, []);
  });

  it("without the addon, warns once and reads nothing", async () => {
    const warnings: string[] = [];
    const reader = await XattrReader.open((m) => warnings.push(m), "layer L", () => Promise.reject(new Error("addon did not build")));
    assert.equal(reader.available, false);
    assert.deepEqual(reader.names(Buffer.from(join(tmp.path, "f"))), []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /^layer L: the fs-xattr addon is not available; exporting without extended attributes/);
  });

  it("skips a path that is not UTF-8 with one warning, since the addon takes strings", async () => {
    const warnings: string[] = [];
    const reader = await XattrReader.open((m) => warnings.push(m), "layer L");
    const odd = Buffer.concat([Buffer.from(`${tmp.path}/`), Buffer.from([0xff, 0xfe])]);
    await writeFile(odd, "x");
    assert.deepEqual(reader.names(odd), []);
    assert.deepEqual(reader.names(odd), []);
    assert.equal(warnings.length, 1);
  });
});
