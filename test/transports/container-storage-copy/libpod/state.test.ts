// Finding and trusting a store's libpod database: bolt_state.db is read under a shared flock (so
// not while podman's exclusive one is held), trusted only for the store it names, and a store
// without one is simply not a podman store.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StoreBusyError } from "../../../../src/errors.js";
import { readLibpodState } from "../../../../transports/container-storage-copy/libpod/state.js";
import type { StoreLocation } from "../../../../transports/container-storage-copy/store/record-types.js";
import { requireTool, run, tempDir } from "../../../helpers/tools.js";
import type { Store } from "../../../helpers/buildah-store.js";
import { BASE_IMAGE, boltPath, createPodmanStore, podmanCreate } from "./podman-store.js";

/** Holds an exclusive flock on `path` as bbolt does for podman, until stdin is closed. */
async function holdExclusive(path: string): Promise<ChildProcessWithoutNullStreams> {
  requireTool("flock");
  const child = spawn("flock", ["--exclusive", path, "sh", "-c", "echo held; exec cat >/dev/null"]);
  await once(child.stdout, "data");
  return child;
}

describe("libpod database of a store", () => {
  let store: Store;
  let work: { path: string; cleanup: () => Promise<void> };
  let location: StoreLocation;
  let id: string;

  before(async () => {
    work = await tempDir("imgcopy-libpod-state-");
    store = await createPodmanStore("vfs");
    id = await podmanCreate(store, "pc", ["-e", "FOO=1"]);
    location = { driver: "vfs", graphRoot: store.graphRoot, runRoot: store.runRoot, additionalImageStores: [], transientStore: false };
  });
  after(async () => {
    await store?.cleanup();
    await work?.cleanup();
  });

  it("reads bolt_state.db of its own store", async () => {
    const state = await readLibpodState(location, { warn: (m) => assert.fail(m) });
    assert.equal(state?.backend, "boltdb");
    assert.equal(state?.containers.get(id)?.name, "pc");
  });

  it("waits for podman's exclusive lock, and says the store is busy when it is not released in time", async () => {
    const holder = await holdExclusive(boltPath(store));
    try {
      await assert.rejects(readLibpodState(location, { lockTimeoutMs: 1000 }), (err) => err instanceof StoreBusyError && err.message.includes(boltPath(store)));
    } finally {
      holder.stdin.end();
      await once(holder, "close");
    }
    const state = await readLibpodState(location, { lockTimeoutMs: 1000 });
    assert.equal(state?.containers.size, 1);
  });

  it("reads without the lock, saying so once, when flock(1) cannot be run", async () => {
    const savedPath = process.env.PATH;
    const warnings: string[] = [];
    try {
      process.env.PATH = "/nonexistent";
      for (let i = 0; i < 2; i++) assert.equal((await readLibpodState(location, { warn: (m) => warnings.push(m) }))?.containers.size, 1);
    } finally {
      process.env.PATH = savedPath;
    }
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0]!, /^flock \(util-linux\) is not installed: reading .*bolt_state\.db without podman's lock/);
  });

  it("does not trust a database that names another graph root", async () => {
    const elsewhere = join(work.path, "copied-root");
    await mkdir(join(elsewhere, "libpod"), { recursive: true });
    await copyFile(boltPath(store), join(elsewhere, "libpod", "bolt_state.db"));
    const warnings: string[] = [];
    const state = await readLibpodState({ ...location, graphRoot: elsewhere }, { warn: (m) => warnings.push(m) });
    assert.equal(state, undefined);
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]!.includes(`describes the store vfs@${store.graphRoot}, not vfs@${elsewhere}`), warnings[0]);
  });

  it("honours containers.conf: static_dir (merged with the graph root's database podman --root uses) and database_backend", async () => {
    const staticDir = join(work.path, "static");
    const conf = join(work.path, "containers.conf");
    await writeFile(conf, `[engine]\nstatic_dir = "${staticDir}"\n`);
    // Without --root, podman 4.3 keeps its database in static_dir (the store comes from storage.conf).
    const env = { ...store.env, CONTAINERS_CONF: conf };
    const flags = ["--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", join(store.dir, "podman-tmp")];
    const staticId = (await run("podman", [...flags, "create", "--name", "in-static", BASE_IMAGE], { env })).stdout.trim();
    const withConf = await readLibpodState(location, { env, warn: (m) => assert.fail(m) });
    assert.equal(withConf?.containers.get(staticId)?.name, "in-static");
    assert.equal(withConf?.containers.get(id)?.name, "pc", "the graph root's database too");
    const withoutConf = await readLibpodState(location, { env: { ...process.env, CONTAINERS_CONF: join(work.path, "none.conf") }, warn: (m) => assert.fail(m) });
    assert.equal(withoutConf?.containers.has(staticId), false);
    // database_backend = "sqlite": bolt files are not read even though they exist.
    await writeFile(conf, `[engine]\nstatic_dir = "${staticDir}"\ndatabase_backend = "sqlite"\n`);
    assert.equal(await readLibpodState(location, { env, warn: (m) => assert.fail(m) }), undefined);
    // Give the container's lock back to podman's machine-wide lock table (see the store's cleanup).
    await writeFile(conf, `[engine]\nstatic_dir = "${staticDir}"\n`);
    await run("podman", [...flags, "rm", "--force", staticId], { env });
  });

  it("a store without a libpod database is not a podman store", async () => {
    const empty = join(work.path, "empty-root");
    await mkdir(empty);
    assert.equal(await readLibpodState({ ...location, graphRoot: empty }, { warn: (m) => assert.fail(m) }), undefined);
  });
});
