// End to end: `imgcopy container-copy:` of containers made by the real `podman create` (vfs and
// overlay stores) gives the config and files `podman commit` gives (committed to a local image,
// then `skopeo copy containers-storage:... oci:...`), and a damaged bolt_state.db stops it cleanly.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { skopeoCopy, type Store, type StorageDriver } from "../helpers/buildah-store.js";
import { readOciImage, type ImageConfig } from "../helpers/oci-layout-read.js";
import { compareTrees, formatDifferences, unpackWithUmoci } from "../helpers/tree-compare.js";
import { tempDir } from "../helpers/tools.js";
import { imgcopy, stderrLines } from "../cli/run-imgcopy.js";
import { BASE_IMAGE_CONFIG, FULL_OPTIONS, VOLUME_OPTIONS, boltPath, createPodmanStore, podmanCreate } from "../transports/container-storage-copy/libpod/podman-store.js";

/** What the issue names: the fields podman commit takes from the container, and those it leaves as the image's. */
const FIELDS = ["User", "Entrypoint", "Cmd", "WorkingDir", "Labels", "ExposedPorts", "StopSignal", "Volumes"] as const;

type Runtime = Record<string, unknown> & { Env?: string[] };

function assertSameConfig(ours: ImageConfig, theirs: ImageConfig, what: string): void {
  const a = (ours.config ?? {}) as Runtime;
  const b = (theirs.config ?? {}) as Runtime;
  for (const f of FIELDS) assert.deepEqual(a[f], b[f], `${what}: ${f}`);
  // podman's order of the env it adds depends on Go map order: compared as sets, and without duplicates.
  assert.deepEqual(new Set(a.Env), new Set(b.Env), `${what}: Env`);
  assert.equal(a.Env?.length, b.Env?.length, `${what}: Env length`);
  const lastA = ours.history?.at(-1);
  const lastB = theirs.history?.at(-1);
  assert.equal(lastA?.created_by, lastB?.created_by, `${what}: history created_by`);
  assert.equal(lastA?.comment, lastB?.comment, `${what}: history comment`);
  assert.equal(lastA?.author, lastB?.author, `${what}: history author`);
  assert.equal((ours as { author?: string }).author, (theirs as { author?: string }).author, `${what}: author`);
  assert.equal(ours.history?.length, theirs.history?.length, `${what}: history length`);
}

for (const driver of ["vfs", "overlay"] as StorageDriver[]) {
  describe(`podman containers in a ${driver} store`, () => {
    let store: Store;
    let work: { path: string; cleanup: () => Promise<void> };

    /** imgcopy's export and podman commit's, both as OCI layouts; resolves with their paths. */
    async function exportBoth(name: string, ours: string[] = [], podman: string[] = []): Promise<{ ours: string; theirs: string }> {
      const oursDir = join(work.path, `${name}-ours`);
      const r = await imgcopy(["copy", "--quiet", ...ours, store.containerCopyRef(name), `oci:${oursDir}:x`]);
      assert.equal(r.code, 0, `imgcopy ${name}: ${r.stderr}`);
      assert.deepEqual(stderrLines(r), [], "no warnings");
      const committed = `localhost/${name}-committed:${ours.length}`;
      await store.podman(["commit", "--quiet", ...podman, name, committed]);
      const theirsDir = join(work.path, `${name}-theirs`);
      await skopeoCopy(store.containersStorageRef(committed), `oci:${theirsDir}:x`);
      return { ours: oursDir, theirs: theirsDir };
    }

    before(async () => {
      work = await tempDir(`imgcopy-e2e-podman-${driver}-`);
      store = await createPodmanStore(driver);
      await podmanCreate(store, "pc", FULL_OPTIONS, ["echo hi"]);
      await podmanCreate(store, "plain", []);
      await podmanCreate(store, "vol", VOLUME_OPTIONS);
      // Files changed in pc's read-write layer: added, changed, deleted, re-owned.
      const root = await store.podman(["mount", "pc"]);
      await writeFile(join(root, "etc/added.txt"), "added by the container\n");
      await writeFile(join(root, "srv/app/run.sh"), "#!/bin/sh\necho changed\n");
      await rm(join(root, "etc/hostname.base"));
      await mkdir(join(root, "home/app"), { recursive: true, mode: 0o700 });
      await writeFile(join(root, "home/app/key"), "secret\n", { mode: 0o600 });
      await store.podman(["umount", "pc"]);
    });
    after(async () => {
      await store?.cleanup();
      await work?.cleanup();
    });

    it("a container made with every option: the config and the files podman commit gives", async () => {
      const { ours, theirs } = await exportBoth("pc");
      const a = await readOciImage(ours, "x");
      const b = await readOciImage(theirs, "x");
      assertSameConfig(a.config, b.config, "pc");
      // The values themselves, so that a config podman and imgcopy both got wrong would show.
      const cfg = a.config.config as Runtime;
      assert.equal(cfg.User, "1000:1000");
      assert.deepEqual(cfg.Entrypoint, ["/bin/sh", "-c"]);
      assert.deepEqual(cfg.Cmd, ["echo hi"]);
      assert.equal(cfg.WorkingDir, "/etc");
      assert.deepEqual({ ...(cfg.Labels as object), "io.buildah.version": undefined }, { app: "x", stage: "base", "io.buildah.version": undefined });
      assert.deepEqual(Object.keys(cfg.ExposedPorts as object).sort(), ["7000", "7000/tcp", "8080/tcp", "9000/udp"]);
      assert.equal(cfg.StopSignal, BASE_IMAGE_CONFIG.StopSignal, "podman keeps the image's stop signal");
      for (const e of ["FOO=1", "APP=ctr", "TERM=xterm", "container=podman", "PATH=/usr/bin:/bin"]) assert.ok(cfg.Env?.includes(e), `Env has ${e}`);
      assert.ok(!cfg.Env?.includes("APP=base"), "the container's APP replaces the image's");
      // The base layers are the same bits; the container's layer is compared by its files below
      // (tar entry order and header details of a diffed layer are not specified).
      assert.deepEqual(a.config.rootfs.diff_ids.slice(0, -1), b.config.rootfs.diff_ids.slice(0, -1), "the image's layers");
      assert.equal(a.config.rootfs.diff_ids.length, b.config.rootfs.diff_ids.length);
      const ra = await unpackWithUmoci(ours, "x", join(work.path, "pc-ours-unpacked"));
      const rb = await unpackWithUmoci(theirs, "x", join(work.path, "pc-theirs-unpacked"));
      const diffs = await compareTrees(ra, rb, { ignoreRoot: true });
      assert.deepEqual(diffs, [], `the trees differ:\n${formatDifferences(diffs)}`);
      assert.equal(await readFile(join(ra, "etc/added.txt"), "utf8"), "added by the container\n");
      assert.ok(!existsSync(join(ra, "etc/hostname.base")));
    });

    it("a container made with no options: the image's settings plus podman's env", async () => {
      const { ours, theirs } = await exportBoth("plain");
      assertSameConfig((await readOciImage(ours, "x")).config, (await readOciImage(theirs, "x")).config, "plain");
    });

    it("volumes: anonymous ones by default, every one with --include-volumes", async () => {
      const plainRun = await exportBoth("vol");
      const a = (await readOciImage(plainRun.ours, "x")).config;
      assertSameConfig(a, (await readOciImage(plainRun.theirs, "x")).config, "vol");
      assert.deepEqual(Object.keys((a.config as Runtime).Volumes as object).sort(), ["/anon", "/data"]);
      const all = await exportBoth("vol", ["--include-volumes"], ["--include-volumes"]);
      const b = (await readOciImage(all.ours, "x")).config;
      assertSameConfig(b, (await readOciImage(all.theirs, "x")).config, "vol --include-volumes");
      assert.deepEqual(Object.keys((b.config as Runtime).Volumes as object).sort(), ["/anon", "/data", "/hostbind", "/named"]);
    });

    it("--author and --change apply on top of the container's settings, as podman commit's -a and -c", async () => {
      const changes = ["-c", "ENV FOO=changed", "-c", "USER 5", "-c", "EXPOSE 1234/udp", "-c", "LABEL app=y"];
      const { ours, theirs } = await exportBoth("pc", ["--author", "Tester <t@example.com>", ...changes], ["-a", "Tester <t@example.com>", ...changes]);
      const a = (await readOciImage(ours, "x")).config;
      assertSameConfig(a, (await readOciImage(theirs, "x")).config, "pc with changes");
      assert.equal((a.config as Runtime).User, "5");
    });

    it("lists the containers as podman's, with their names", async () => {
      const r = await imgcopy(["list", "--json", `container-copy:${store.bracket}`]);
      assert.equal(r.code, 0, r.stderr);
      const items = JSON.parse(r.stdout) as Array<{ kind: string; names: string[]; madeBy?: string }>;
      const containers = items.filter((i) => i.kind === "container");
      assert.deepEqual(containers.map((c) => c.names[0]).sort(), ["pc", "plain", "vol"]);
      assert.ok(containers.every((c) => c.madeBy === "podman"), r.stdout);
    });

    it("a truncated or corrupt bolt_state.db: one line naming it, exit 5, nothing written", async () => {
      const db = boltPath(store);
      const saved = join(work.path, "bolt_state.db.saved");
      await copyFile(db, saved);
      try {
        const size = (await readFile(db)).length;
        for (const [what, spoil] of [
          ["truncated", () => truncate(db, Math.floor(size / 3))],
          ["zeroed", () => writeFile(db, Buffer.alloc(size))],
        ] as const) {
          await spoil();
          const out = join(work.path, `broken-${what}`);
          const r = await imgcopy(["copy", "--quiet", store.containerCopyRef("pc"), `oci:${out}:x`]);
          assert.equal(r.code, 5, `${what}: ${r.stderr}`);
          const lines = stderrLines(r);
          assert.equal(lines.length, 1, r.stderr);
          assert.ok(lines[0]!.includes(db), lines[0]);
          assert.ok(!existsSync(out), `${what}: nothing written`);
          await copyFile(saved, db);
        }
      } finally {
        await copyFile(saved, db);
      }
    });
  });
}
