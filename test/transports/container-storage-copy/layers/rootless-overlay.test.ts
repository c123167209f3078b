// Rootless overlay layers as native overlay (userxattr), fuse-overlayfs and force_mask leave them
// on disk, made here with real files (mknod, xattrs as root): whiteouts, opaque directories in
// each spelling, internal xattrs left out, and user.containers.override_stat applied.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { setAttribute } from "fs-xattr";
import { FsEntryArchiver } from "../../../../transports/container-storage-copy/layers/fs-entry-archiver.js";
import { IdMapper } from "../../../../transports/container-storage-copy/layers/id-mapping.js";
import { overlayLayerTar } from "../../../../transports/container-storage-copy/layers/overlay-layer-diff.js";
import { parseOverrideStat } from "../../../../transports/container-storage-copy/layers/override-stat.js";
import { endOfArchive } from "../../../../transports/container-storage-copy/layers/tar-header.js";
import { XattrReader } from "../../../../transports/container-storage-copy/layers/xattr-reader.js";
import type { IdMapping } from "../../../../transports/container-storage-copy/store/record-types.js";
import { tempDir } from "../../../helpers/tools.js";
import { listTar, type ListedEntry } from "./tar-listing.js";

const execFileP = promisify(execFile);
const INTERNAL = /^(user\.overlay\.|trusted\.|user\.fuseoverlayfs\.|security\.fuseoverlayfs\.|user\.containers\.override_stat$)/;

async function layerEntries(diffDir: string, lowerDiffs: string[], idmap?: IdMapping[]): Promise<{ entries: ListedEntry[]; warnings: string[] }> {
  const warnings: string[] = [];
  const xattrs = await XattrReader.open((m) => warnings.push(m), "layer L");
  const archiver = new FsEntryArchiver({ layerId: "L", mapper: new IdMapper(idmap, idmap), xattrs, warn: (m) => warnings.push(m) });
  const tar = (async function* () {
    yield* overlayLayerTar({ archiver, diffDir, lowerDiffs });
    yield endOfArchive();
  })();
  return { entries: await listTar(Readable.from(tar, { objectMode: false })), warnings };
}

function byName(entries: ListedEntry[], name: string): ListedEntry {
  const e = entries.find((x) => x.name === name);
  assert.ok(e, `${name} is in the layer (have: ${entries.map((x) => x.name).join(", ")})`);
  return e;
}

describe("rootless overlay layers", () => {
  let tmp: { path: string; cleanup: () => Promise<void> };
  let lower: string;
  let upper: string;
  before(async () => {
    tmp = await tempDir("imgcopy-rootless-overlay-");
    lower = join(tmp.path, "lower");
    upper = join(tmp.path, "upper");
    for (const d of ["old/sub", "fuse/sub", "fuse2", "etc", "keep"]) await mkdir(join(lower, d), { recursive: true });
    for (const f of ["old/sub/x", "fuse/a", "fuse2/b", "etc/deleted", "etc/kept"]) await writeFile(join(lower, f), "lower\n");
    for (const d of ["old", "fuse", "fuse2", "etc", "fresh", "forced"]) await mkdir(join(upper, d), { recursive: true });
    // native rootless overlay (userxattr): whiteout = char 0:0, opaque = user.overlay.opaque
    await execFileP("mknod", [join(upper, "etc/deleted"), "c", "0", "0"]);
    await setAttribute(join(upper, "etc"), "user.overlay.origin", "");
    await setAttribute(join(upper, "etc"), "user.overlay.impure", "y");
    await setAttribute(join(upper, "old"), "user.overlay.opaque", "y");
    await writeFile(join(upper, "old/n"), "new\n");
    // fuse-overlayfs: user.fuseoverlayfs.opaque plus a .wh..wh..opq file; or the file alone
    await setAttribute(join(upper, "fuse"), "user.fuseoverlayfs.opaque", "y");
    await writeFile(join(upper, "fuse/.wh..wh..opq"), "");
    await writeFile(join(upper, "fuse/c"), "c\n");
    await writeFile(join(upper, "fuse2/.wh..wh..opq"), "");
    // a new directory marked opaque has nothing to hide: no marker
    await setAttribute(join(upper, "fresh"), "user.overlay.opaque", "y");
    // internal xattrs next to a user one that must travel
    await writeFile(join(upper, "etc/conf"), "conf\n");
    await setAttribute(join(upper, "etc/conf"), "user.keep", "1");
    await setAttribute(join(upper, "etc/conf"), "trusted.overlay.origin", "x");
    await setAttribute(join(upper, "etc/conf"), "user.fuseoverlayfs.x", "x");
    await setAttribute(join(upper, "etc/conf"), "security.fuseoverlayfs.override_stat", "0:0:0644");
    // force_mask: the real owner, mode and type are in user.containers.override_stat
    await writeFile(join(upper, "forced/suid"), "#!/bin/sh\n", { mode: 0o700 });
    await setAttribute(join(upper, "forced/suid"), "user.containers.override_stat", "1000:1001:04755");
    await writeFile(join(upper, "forced/null"), "", { mode: 0o700 });
    await setAttribute(join(upper, "forced/null"), "user.containers.override_stat", "0:0:0666:char-1-3");
    await writeFile(join(upper, "forced/sock"), "", { mode: 0o700 });
    await setAttribute(join(upper, "forced/sock"), "user.containers.override_stat", "0:0:0755:socket");
    await mkdir(join(upper, "forced/private"), { mode: 0o700 });
    await setAttribute(join(upper, "forced/private"), "user.containers.override_stat", "1000:1000:0700:dir");
  });
  after(async () => tmp.cleanup());

  it("turns a char 0:0 device into a .wh. whiteout (mode 0, no device)", async () => {
    const { entries } = await layerEntries(upper, [lower]);
    const wh = byName(entries, "etc/.wh.deleted");
    assert.equal(wh.type, "file");
    assert.equal(wh.size, 0);
    assert.equal(wh.mode & 0o7777, 0);
    assert.ok(!entries.some((e) => e.name === "etc/deleted"));
  });

  it("marks user.overlay.opaque, user.fuseoverlayfs.opaque and a lone .wh..wh..opq file as opaque, once, right after the directory", async () => {
    const { entries } = await layerEntries(upper, [lower]);
    const names = entries.map((e) => e.name);
    for (const dir of ["old", "fuse", "fuse2"]) {
      const at = names.indexOf(`${dir}/`);
      assert.ok(at >= 0, dir);
      assert.equal(names[at + 1], `${dir}/.wh..wh..opq`, `${dir} is opaque`);
      assert.equal(names.filter((n) => n === `${dir}/.wh..wh..opq`).length, 1, `${dir}: one marker`);
    }
    assert.ok(names.includes("fuse/c") && names.includes("old/n"));
    assert.ok(!names.includes("fresh/.wh..wh..opq"), "a directory no lower has needs no marker");
  });

  it("never writes overlay's, fuse-overlayfs' or containers/storage's own xattrs, and keeps user ones", async () => {
    const { entries } = await layerEntries(upper, [lower]);
    for (const e of entries) {
      const leaked = Object.keys(e.xattrs).filter((k) => INTERNAL.test(k));
      assert.deepEqual(leaked, [], `${e.name} carries no internal xattr`);
    }
    assert.deepEqual(byName(entries, "etc/conf").xattrs, { "user.keep": "1" });
  });

  it("applies user.containers.override_stat: owner, mode with setuid, device type; a socket is left out", async () => {
    const { entries } = await layerEntries(upper, [lower]);
    const suid = byName(entries, "forced/suid");
    assert.deepEqual([suid.type, suid.uid, suid.gid, suid.mode & 0o7777, suid.size], ["file", 1000, 1001, 0o4755, 10]);
    const dev = byName(entries, "forced/null");
    assert.deepEqual([dev.type, dev.uid, dev.mode & 0o7777, dev.devmajor, dev.devminor, dev.size], ["character-device", 0, 0o666, 1, 3, 0]);
    const dir = byName(entries, "forced/private/");
    assert.deepEqual([dir.type, dir.uid, dir.gid, dir.mode & 0o7777], ["directory", 1000, 1000, 0o700]);
    assert.ok(!entries.some((e) => e.name === "forced/sock"));
  });

  it("maps override_stat's host ids through the layer's id map", async () => {
    const idmap: IdMapping[] = [{ container_id: 0, host_id: 0, size: 1 }, { container_id: 1, host_id: 100000, size: 65536 }];
    await setAttribute(join(upper, "forced/suid"), "user.containers.override_stat", "100999:100999:04755");
    try {
      const { entries } = await layerEntries(upper, [lower], idmap);
      const suid = byName(entries, "forced/suid");
      assert.deepEqual([suid.uid, suid.gid], [1000, 1000]);
    } finally {
      await setAttribute(join(upper, "forced/suid"), "user.containers.override_stat", "1000:1001:04755");
    }
  });

  it("refuses a malformed override_stat with one line naming the file", () => {
    assert.throws(() => parseOverrideStat(Buffer.from("1000:x:0755"), "layer L: f"), /layer L: f: malformed user\.containers\.override_stat "1000:x:0755"/);
    assert.throws(() => parseOverrideStat(Buffer.from("0:0:0755:tape"), "layer L: f"), /malformed/);
    assert.deepEqual(parseOverrideStat(Buffer.from("0:0:0755:block-8-1"), "f").type, { typeflag: 0x34, major: 8, minor: 1 });
  });
});
