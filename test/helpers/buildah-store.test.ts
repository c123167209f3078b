// Proves the fixture builders make what they claim, on real buildah stores of both drivers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { lstat, mkdir, readFile, readlink, readdir, writeFile, chmod, utimes } from "node:fs/promises";
import { join } from "node:path";
import { getAttribute } from "fs-xattr";
import {
  BASE,
  BASE_CONFIG,
  CHANGES,
  CONTAINER_CONFIG,
  NET_BIND_CAPABILITY,
  OLD_MTIME,
  buildBaseImage,
  buildChangedContainer,
  buildScratchContainer,
  commitContainer,
  createStore,
  skopeoCopy,
  type BaseImage,
  type Store,
  type StorageDriver,
  type WorkingContainer,
} from "./buildah-store.js";
import { compareTrees, copyTreeExactly, formatDifferences, unpackWithUmoci } from "./tree-compare.js";
import { tempDir } from "./tools.js";

interface OciConfig {
  config: Record<string, unknown>;
  rootfs: { diff_ids: string[] };
}

/** Labels without the one buildah adds on its own. */
const ownLabels = (labels: unknown) => Object.fromEntries(Object.entries(labels as object).filter(([k]) => k !== "io.buildah.version"));

const mtimeSec = async (p: string) => Math.floor((await lstat(p)).mtimeMs / 1000);

for (const driver of ["vfs", "overlay"] as StorageDriver[]) {
  describe(`buildah fixtures (${driver})`, () => {
    let store: Store;
    let base: BaseImage;
    let changed: WorkingContainer;
    let scratch: WorkingContainer;
    let work: { path: string; cleanup: () => Promise<void> };

    before(async () => {
      work = await tempDir();
      store = await createStore(driver);
      base = await buildBaseImage(store);
      changed = await buildChangedContainer(store, base);
      scratch = await buildScratchContainer(store);
    });
    after(async () => {
      await store?.cleanup();
      await work?.cleanup();
    });

    it("names the store as a reference bracket", () => {
      assert.equal(store.bracket, `[${driver}@${store.graphRoot}+${store.runRoot}]`);
      assert.ok(existsSync(join(store.graphRoot, `${driver}-layers`, "layers.json")));
    });

    it("builds a two-layer base image with its config, tar-split files and diff digests", async () => {
      const inspect = JSON.parse(await store.buildah(["inspect", "--type", "image", base.name])) as { OCIv1: OciConfig };
      assert.equal(inspect.OCIv1.rootfs.diff_ids.length, 2);
      const c = inspect.OCIv1.config;
      assert.deepEqual(c.Env, BASE_CONFIG.env);
      assert.deepEqual(c.Cmd, BASE_CONFIG.cmd);
      assert.deepEqual(c.Entrypoint, BASE_CONFIG.entrypoint);
      assert.equal(c.WorkingDir, BASE_CONFIG.workingDir);
      assert.deepEqual(ownLabels(c.Labels), BASE_CONFIG.labels);
      assert.equal(c.User, BASE_CONFIG.user);
      assert.deepEqual(Object.keys(c.ExposedPorts as object), BASE_CONFIG.ports);
      assert.deepEqual(Object.keys(c.Volumes as object), BASE_CONFIG.volumes);
      assert.equal(c.StopSignal, BASE_CONFIG.stopSignal);
      const layers = JSON.parse(await readFile(join(store.graphRoot, `${driver}-layers`, "layers.json"), "utf8")) as Array<Record<string, string>>;
      for (const diffId of inspect.OCIv1.rootfs.diff_ids) {
        const rec = layers.find((l) => l["diff-digest"] === diffId);
        assert.ok(rec, `a layer record with diff-digest ${diffId}`);
        assert.ok(existsSync(join(store.graphRoot, `${driver}-layers`, `${rec.id}.tar-split.gz`)));
      }
    });

    it("puts files, owners, modes, setuid, links, xattrs, old mtimes and layer-2 deletions in the base image", async () => {
      const oci = join(work.path, "base-oci");
      await skopeoCopy(store.containersStorageRef(base.name), `oci:${oci}:base`);
      const root = await unpackWithUmoci(oci, "base", join(work.path, "base-unpacked"));
      assert.equal((await lstat(join(root, BASE.suidTool))).mode & 0o7777, 0o4755);
      assert.equal((await lstat(join(root, BASE.tool))).ino, (await lstat(join(root, BASE.toolHardLink))).ino);
      assert.equal(await readlink(join(root, BASE.binSymlink)), "usr/bin");
      assert.equal(await readlink(join(root, BASE.layer2Symlink)), "/etc/passwd");
      const home = await lstat(join(root, BASE.userHome));
      assert.deepEqual([home.uid, home.gid, home.mode & 0o7777], [1000, 1000, 0o750]);
      assert.equal((await lstat(join(root, "tmp"))).mode & 0o7777, 0o1777);
      assert.equal((await getAttribute(join(root, BASE.withXattr), "user.origin")).toString(), "base");
      assert.equal(await mtimeSec(join(root, BASE.oldMtime)), OLD_MTIME.getTime() / 1000);
      assert.equal(existsSync(join(root, BASE.deletedInLayer2)), false);
      assert.equal(existsSync(join(root, BASE.deletedDirInLayer2)), false);
      assert.equal(await readFile(join(root, BASE.layer2File), "utf8"), "the app\n");
    });

    it("makes a working container whose mounted root has every listed change", async () => {
      const at = (p: string) => join(changed.mountPoint, p);
      for (const p of CHANGES.added) assert.ok(existsSync(at(p)), p);
      assert.equal(await readFile(at(CHANGES.modified[0]), "utf8"), "to-modify=2\nmore=yes\n");
      assert.match(await readFile(at(CHANGES.modified[1]), "utf8"), /changed in the container/);
      for (const p of [...CHANGES.deleted, CHANGES.deletedDir, ...CHANGES.recreatedDirGoneFiles]) assert.equal(existsSync(at(p)), false, p);
      assert.deepEqual(await readdir(at(CHANGES.recreatedDir)), ["c"]);
      assert.equal((await lstat(at(CHANGES.chmodFile.path))).mode & 0o7777, CHANGES.chmodFile.mode);
      assert.equal((await lstat(at(CHANGES.chmodDir.path))).mode & 0o7777, CHANGES.chmodDir.mode);
      const owned = await lstat(at(CHANGES.chownFile.path));
      assert.deepEqual([owned.uid, owned.gid], [CHANGES.chownFile.uid, CHANGES.chownFile.gid]);
      for (const s of [CHANGES.absSymlink, CHANGES.relSymlink, CHANGES.danglingSymlink, CHANGES.fileBecameSymlink]) {
        assert.equal(await readlink(at(s.path)), s.target);
      }
      const inodes = await Promise.all(CHANGES.hardLinks.map(async (p) => (await lstat(at(p))).ino));
      assert.equal(new Set(inodes).size, 1);
      assert.ok((await lstat(at(CHANGES.fifo))).isFIFO());
      const suid = await lstat(at(CHANGES.setuid.path));
      assert.deepEqual([suid.mode & 0o7777, suid.gid], [CHANGES.setuid.mode, CHANGES.setuid.gid]);
      assert.equal((await lstat(at(CHANGES.setgidDir.path))).mode & 0o7777, CHANGES.setgidDir.mode);
      for (const x of CHANGES.xattrs) assert.equal((await getAttribute(at(x.path), x.name)).toString(), x.value);
      assert.deepEqual(await getAttribute(at(CHANGES.capabilityFile), "security.capability"), NET_BIND_CAPABILITY);
      assert.ok(CHANGES.longPath.length > 100 && existsSync(at(CHANGES.longPath)));
      assert.ok(existsSync(at(CHANGES.longName)));
      assert.equal(await readFile(at(CHANGES.nonAscii), "utf8"), "non-ASCII path\n");
      assert.equal((await lstat(at(CHANGES.large.path))).size, CHANGES.large.size);
      assert.equal(await mtimeSec(at(CHANGES.oldMtime)), OLD_MTIME.getTime() / 1000);
      assert.equal((await lstat(at(CHANGES.nobodyFile.path))).uid, 65534);
    });

    it("applies the buildah config changes to the working container", async () => {
      const inspect = JSON.parse(await store.buildah(["inspect", "--type", "container", changed.name])) as { OCIv1: OciConfig; ContainerID: string };
      assert.equal(inspect.ContainerID, changed.id);
      const c = inspect.OCIv1.config;
      assert.deepEqual(c.Env, [...BASE_CONFIG.env, ...CONTAINER_CONFIG.env]);
      assert.deepEqual(c.Cmd, CONTAINER_CONFIG.cmd);
      assert.deepEqual(c.Entrypoint, CONTAINER_CONFIG.entrypoint);
      assert.equal(c.WorkingDir, CONTAINER_CONFIG.workingDir);
      assert.deepEqual(ownLabels(c.Labels), { ...BASE_CONFIG.labels, ...CONTAINER_CONFIG.labels });
      assert.equal(c.User, CONTAINER_CONFIG.user);
      assert.deepEqual(Object.keys(c.ExposedPorts as object).sort(), [...BASE_CONFIG.ports, ...CONTAINER_CONFIG.ports].sort());
      assert.deepEqual(Object.keys(c.Volumes as object).sort(), [...BASE_CONFIG.volumes, ...CONTAINER_CONFIG.volumes].sort());
      assert.equal(c.StopSignal, CONTAINER_CONFIG.stopSignal);
      const userdata = join(store.graphRoot, `${driver}-containers`, changed.id, "userdata", "buildah.json");
      assert.ok(existsSync(userdata));
    });

    it("gives a tree that buildah commit + skopeo + umoci reproduce, as compareTrees sees it", async () => {
      await commitContainer(store, changed.name, "localhost/changed-committed:1");
      const oci = join(work.path, "changed-oci");
      await skopeoCopy(store.containersStorageRef("localhost/changed-committed:1"), `oci:${oci}:c`);
      const root = await unpackWithUmoci(oci, "c", join(work.path, "changed-unpacked"));
      const diffs = await compareTrees(changed.mountPoint, root, { ignoreRoot: true });
      assert.deepEqual(diffs, [], formatDifferences(diffs));
    });

    if (driver === "overlay") {
      it("records deletions as whiteouts and the re-created directory as opaque in the layer's diff/", async () => {
        const ctrs = JSON.parse(await readFile(join(store.graphRoot, "overlay-containers", "containers.json"), "utf8")) as Array<{ id: string; layer: string }>;
        const layer = ctrs.find((c) => c.id === changed.id)?.layer;
        assert.ok(layer);
        const diff = join(store.graphRoot, "overlay", layer, "diff");
        const wh = await lstat(join(diff, CHANGES.deleted[0]));
        assert.ok(wh.isCharacterDevice() && wh.rdev === 0);
        assert.ok((await lstat(join(diff, CHANGES.deletedDir))).isCharacterDevice());
        assert.equal((await getAttribute(join(diff, CHANGES.recreatedDir), "trusted.overlay.opaque")).toString(), "y");
      });
    }

    it("makes a container from scratch with a few files", async () => {
      assert.equal(await readFile(join(scratch.mountPoint, "etc/hello.txt"), "utf8"), "hello from scratch\n");
      assert.equal(await readlink(join(scratch.mountPoint, "etc/hello-link")), "hello.txt");
      const owned = await lstat(join(scratch.mountPoint, "data/owned.txt"));
      assert.deepEqual([owned.uid, owned.mode & 0o777], [1000, 0o600]);
      const list = await store.buildah(["containers", "--format", "{{.ContainerName}} {{.ImageName}}"]);
      assert.match(list, new RegExp(`^${scratch.name}\\s+scratch$`, "m"));
    });
  });
}

describe("compareTrees", () => {
  it("finds nothing between a tree and its exact copy, and each kind of change in a modified copy", async () => {
    const t = await tempDir();
    try {
      const a = join(t.path, "a");
      const b = join(t.path, "b");
      await copyTreeExactly(join(import.meta.dirname, "."), a);
      await copyTreeExactly(a, b);
      assert.deepEqual(await compareTrees(a, b), []);
      await writeFile(join(b, "tools.ts"), "changed");
      await chmod(join(b, "tree-compare.ts"), 0o4755);
      await writeFile(join(b, "extra"), "x");
      const diffs = await compareTrees(a, b, { ignoreDirMtime: true });
      const kinds = diffs.map((d) => `${d.path} ${d.what}`);
      assert.ok(kinds.includes("tools.ts content"), kinds.join("; "));
      assert.ok(kinds.includes("tools.ts mtime"), kinds.join("; "));
      assert.ok(kinds.includes("tree-compare.ts mode"), kinds.join("; "));
      assert.ok(kinds.includes("extra only-in-b"), kinds.join("; "));
    } finally {
      await t.cleanup();
    }
  });
});

describe("copyTreeExactly", () => {
  it("keeps an mtime just before a whole second in that second (Node's fs.cp rounds it into the next one)", async () => {
    const t = await tempDir();
    try {
      const a = join(t.path, "a");
      const b = join(t.path, "b");
      await mkdir(a);
      await writeFile(join(a, "blob"), "x");
      await utimes(join(a, "blob"), 1_700_000_000.9996, 1_700_000_000.9996);
      await copyTreeExactly(a, b);
      assert.deepEqual(await compareTrees(a, b, { ignoreDirMtime: true }), []);
      const nsOf = async (p: string): Promise<bigint> => (await lstat(p, { bigint: true })).mtimeNs;
      assert.equal(await nsOf(join(b, "blob")), await nsOf(join(a, "blob")));
    } finally {
      await t.cleanup();
    }
  });
});

describe("createStore cleanup", () => {
  it("unmounts the overlay mounts and removes the store", async () => {
    const s = await createStore("overlay");
    const c = await buildScratchContainer(s);
    assert.match(await readFile("/proc/self/mounts", "utf8"), new RegExp(c.mountPoint.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    await s.cleanup();
    assert.equal(existsSync(s.dir), false);
    assert.equal((await readFile("/proc/self/mounts", "utf8")).includes(s.dir), false);
  });
});
