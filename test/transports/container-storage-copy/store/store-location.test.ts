import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { defaultGraphRoot, defaultRunRoot, locateStore } from "../../../../transports/container-storage-copy/store/store-location.js";
import { tempDir } from "../../../helpers/tools.js";
import { isImgcopyError } from "../../../../src/errors.js";

describe("store location", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let g1: string;
  let g2: string;
  let g3: string;
  /** An empty storage.conf, so that the host's own does not leak into a test. */
  let emptyConf: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = await tempDir("imgcopy-store-location-");
    g1 = join(dir.path, "g1");
    g2 = join(dir.path, "g2");
    g3 = join(dir.path, "g3");
    for (const g of [g1, g2, g3]) await mkdir(g);
    emptyConf = join(dir.path, "empty.conf");
    await writeFile(emptyConf, "");
    env = { CONTAINERS_STORAGE_CONF: emptyConf, HOME: dir.path };
  });
  after(() => dir.cleanup());

  it("takes the reference's bracket over the SystemContext and storage.conf", async () => {
    const conf = join(dir.path, "other.conf");
    await writeFile(conf, `[storage]\ndriver = "overlay"\ngraphroot = "${g3}"\nrunroot = "/conf/run"\n`);
    const loc = await locateStore(
      { driver: "vfs", graphRoot: g1, runRoot: "/bracket/run" },
      { env: { CONTAINERS_STORAGE_CONF: conf }, storageRoot: g2, storageRunRoot: "/ctx/run", storageDriver: "overlay" },
    );
    assert.deepEqual(loc, { driver: "vfs", graphRoot: g1, runRoot: "/bracket/run", additionalImageStores: [], transientStore: false });
  });

  it("takes the SystemContext when the reference names no store", async () => {
    const loc = await locateStore({}, { env, storageRoot: g2, storageRunRoot: "/ctx/run", storageDriver: "vfs" });
    assert.equal(loc.graphRoot, g2);
    assert.equal(loc.runRoot, "/ctx/run");
    assert.equal(loc.driver, "vfs");
  });

  it("reads storage.conf named by CONTAINERS_STORAGE_CONF (driver, roots, image stores, transient store)", async () => {
    const conf = join(dir.path, "storage.conf");
    await writeFile(
      conf,
      `[storage]\ndriver = "vfs"\ngraphroot = "${g3}"\nrunroot = "$HOME/run"\nimagestore = "/is"\ntransient_store = true\n` +
        `[storage.options]\nadditionalimagestores = ["/ro1", "/ro2"]\n`,
    );
    const loc = await locateStore({}, { env: { CONTAINERS_STORAGE_CONF: conf, HOME: "/home/tester" } });
    assert.deepEqual(loc, {
      driver: "vfs",
      graphRoot: g3,
      runRoot: "/home/tester/run",
      additionalImageStores: ["/is", "/ro1", "/ro2"],
      transientStore: true,
    });
  });

  it("lets $STORAGE_DRIVER override storage.conf's driver but not the SystemContext's", async () => {
    const conf = join(dir.path, "driver.conf");
    await writeFile(conf, `[storage]\ndriver = "overlay"\ngraphroot = "${g1}"\n`);
    assert.equal((await locateStore({}, { env: { CONTAINERS_STORAGE_CONF: conf, STORAGE_DRIVER: "vfs" } })).driver, "vfs");
    assert.equal((await locateStore({}, { env: { CONTAINERS_STORAGE_CONF: conf, STORAGE_DRIVER: "vfs" }, storageDriver: "overlay" })).driver, "overlay");
  });

  it("adds additional image stores named in the bracket's options", async () => {
    const loc = await locateStore({ driver: "vfs", graphRoot: g1, options: ["vfs.imagestore=/ro/a", "additionalimagestore=/ro/b", "x=y"] }, { env });
    assert.deepEqual(loc.additionalImageStores, ["/ro/a", "/ro/b"]);
  });

  it("detects the driver from the graph root in containers/storage's priority (overlay first, vfs last), and defaults to overlay", async () => {
    const g = join(dir.path, "detect");
    await mkdir(g, { recursive: true });
    assert.equal((await locateStore({ graphRoot: g }, { env })).driver, "overlay");
    // a rootless user's store made without storage.conf, where the overlay probe failed
    await mkdir(join(g, "vfs"));
    assert.equal((await locateStore({ graphRoot: g }, { env })).driver, "vfs");
    await mkdir(join(g, "overlay"));
    assert.equal((await locateStore({ graphRoot: g }, { env })).driver, "overlay");
  });

  it("refuses a driver it cannot read, named or detected, with UnsupportedError", async () => {
    await assert.rejects(locateStore({ driver: "btrfs", graphRoot: g1 }, { env }), (err: unknown) => {
      assert.ok(isImgcopyError(err));
      assert.equal(err.code, "EUNSUPPORTED");
      assert.equal(err.message, `container-copy: storage driver "btrfs" of store ${g1} is not supported (supported: overlay, vfs)`);
      return true;
    });
    const g = join(dir.path, "btrfs-store");
    await mkdir(join(g, "btrfs"), { recursive: true });
    await assert.rejects(locateStore({ graphRoot: g }, { env }), /storage driver "btrfs" of store .* is not supported/);
  });

  it("says which graph root is missing with NotFoundError", async () => {
    const missing = join(dir.path, "no-such-store");
    await assert.rejects(locateStore({ driver: "vfs", graphRoot: missing }, { env }), (err: unknown) => {
      assert.ok(isImgcopyError(err));
      assert.equal(err.code, "ENOTFOUND");
      assert.equal(err.message, `containers/storage graph root ${missing} does not exist`);
      return true;
    });
  });

  it("defaults to containers/storage's root and rootless locations", () => {
    assert.equal(defaultGraphRoot({}, false), "/var/lib/containers/storage");
    assert.equal(defaultRunRoot({}, false), "/run/containers/storage");
    assert.equal(defaultGraphRoot({ HOME: "/home/u" }, true), "/home/u/.local/share/containers/storage");
    assert.equal(defaultGraphRoot({ HOME: "/home/u", XDG_DATA_HOME: "/xdg/data" }, true), "/xdg/data/containers/storage");
    assert.equal(defaultRunRoot({ XDG_RUNTIME_DIR: "/run/user/1000" }, true), "/run/user/1000/containers");
  });
});
