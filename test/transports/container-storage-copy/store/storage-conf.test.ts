import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadStorageConf, parseToml, readStorageConf } from "../../../../transports/container-storage-copy/store/storage-conf.js";
import { tempDir } from "../../../helpers/tools.js";
import { isImgcopyError } from "../../../../src/errors.js";

// Shaped like the storage.conf Debian ships, with the keys a reader needs set.
const CONF = `# This file is the configuration file for all tools
[storage]
# Default Storage Driver
driver = "overlay"   # a comment after a value
runroot = "/run/x # not a comment"
graphroot = '/var/lib/x'
imagestore = "/var/lib/imagestore"
transient_store = true
rootless_storage_path = "$HOME/.local/share/containers/storage"

[storage.options]
additionalimagestores = [
  "/ro/one",   # first
  '/ro/two',
]
pull_options = {enable_partial_images = "false", use_hard_links = "false"}
size = ""

[storage.options.overlay]
mountopt = "nodev,metacopy=on"
ratio = 1.5
`;

describe("storage.conf", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir("imgcopy-storage-conf-");
  });
  after(() => dir.cleanup());

  it("reads tables, comments, literal strings and multi-line arrays, skipping values it does not model", () => {
    const t = parseToml(CONF);
    assert.equal(t.get("storage")?.get("driver"), "overlay");
    assert.equal(t.get("storage")?.get("runroot"), "/run/x # not a comment");
    assert.equal(t.get("storage")?.get("transient_store"), true);
    assert.deepEqual(t.get("storage.options")?.get("additionalimagestores"), ["/ro/one", "/ro/two"]);
    assert.equal(t.get("storage.options")?.has("pull_options"), false);
    assert.equal(t.get("storage.options.overlay")?.get("mountopt"), "nodev,metacopy=on");
  });

  it("extracts the keys a store reader needs", async () => {
    const path = join(dir.path, "storage.conf");
    await writeFile(path, CONF);
    assert.deepEqual(await readStorageConf(path), {
      path,
      driver: "overlay",
      graphRoot: "/var/lib/x",
      runRoot: "/run/x # not a comment",
      imageStore: "/var/lib/imagestore",
      transientStore: true,
      additionalImageStores: ["/ro/one", "/ro/two"],
      rootlessStoragePath: "$HOME/.local/share/containers/storage",
    });
  });

  it("names the file in a CorruptInputError for a line that is not TOML", async () => {
    const path = join(dir.path, "broken.conf");
    await writeFile(path, "[storage]\ndriver\n");
    await assert.rejects(readStorageConf(path), (err: unknown) => {
      assert.ok(isImgcopyError(err));
      assert.equal(err.code, "ECORRUPT");
      assert.match(err.message, new RegExp(`storage.conf ${path}: line 2: expected key = value`));
      return true;
    });
  });

  it("prefers $CONTAINERS_STORAGE_CONF, and warns and falls back when it is missing", async () => {
    const path = join(dir.path, "explicit.conf");
    await writeFile(path, '[storage]\ndriver = "vfs"\n');
    const found = await loadStorageConf({ CONTAINERS_STORAGE_CONF: path }, false, () => {});
    assert.equal(found?.conf.driver, "vfs");
    assert.equal(found?.conf.path, path);
    const warnings: string[] = [];
    const missing = join(dir.path, "nope.conf");
    const fallback = await loadStorageConf({ CONTAINERS_STORAGE_CONF: missing }, false, (m) => warnings.push(m));
    assert.notEqual(fallback?.conf.path, missing);
    assert.deepEqual(warnings, [`CONTAINERS_STORAGE_CONF=${missing}: no such file; using the default storage.conf lookup`]);
  });

  it("looks in the user's config dir first when rootless", async () => {
    const xdg = join(dir.path, "xdg");
    await import("node:fs/promises").then((fs) => fs.mkdir(join(xdg, "containers"), { recursive: true }));
    await writeFile(join(xdg, "containers", "storage.conf"), '[storage]\ngraphroot = "/home/u/store"\n');
    const found = await loadStorageConf({ XDG_CONFIG_HOME: xdg, HOME: dir.path }, true, () => {});
    assert.equal(found?.conf.graphRoot, "/home/u/store");
    assert.equal(found?.fromSystem, false);
  });
});
