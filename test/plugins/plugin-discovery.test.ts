import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { isImgcopyError } from "../../src/errors.js";
import { discoverPlugins, manifestPathFor, userPluginFolder } from "../../src/plugins/plugin-discovery.js";
import { tempDir } from "../helpers/tools.js";

const fixtures = fileURLToPath(new URL("../fixtures/plugins/", import.meta.url));
const TARBALL = join(fixtures, "tarball");
const MISSING = join(fixtures, "missing-module");
const GARBAGE = join(fixtures, "garbage-export");

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.cleanup();
});

describe("discoverPlugins", () => {
  it("orders bundled, --plugin, IMGCOPY_PLUGINS, then the user's folder (sorted)", async () => {
    const xdg = join(dir.path, "order-xdg");
    for (const name of ["b-plugin", "a-plugin"]) {
      await mkdir(join(xdg, "imgcopy", "plugins", name), { recursive: true });
      await writeFile(join(xdg, "imgcopy", "plugins", name, "plugin.json"), "{}");
    }
    const found = discoverPlugins({
      bundled: ["/host/plugin.json"],
      paths: [TARBALL, join(GARBAGE, "plugin.json")],
      env: { IMGCOPY_PLUGINS: `${MISSING}::`, XDG_CONFIG_HOME: xdg, HOME: "/nonexistent" },
    });
    assert.deepEqual(found, [
      { manifestPath: "/host/plugin.json", source: "bundled" },
      { manifestPath: join(TARBALL, "plugin.json"), source: "option" },
      { manifestPath: join(GARBAGE, "plugin.json"), source: "option" },
      { manifestPath: join(MISSING, "plugin.json"), source: "env" },
      { manifestPath: join(xdg, "imgcopy", "plugins", "a-plugin", "plugin.json"), source: "user" },
      { manifestPath: join(xdg, "imgcopy", "plugins", "b-plugin", "plugin.json"), source: "user" },
    ]);
  });

  it("warns about a user plugin folder without plugin.json and skips files", async () => {
    const xdg = join(dir.path, "warn-xdg");
    await mkdir(join(xdg, "imgcopy", "plugins", "empty"), { recursive: true });
    await writeFile(join(xdg, "imgcopy", "plugins", "README"), "not a plugin");
    const warnings: string[] = [];
    const found = discoverPlugins({ bundled: [], env: { XDG_CONFIG_HOME: xdg }, warn: (m) => warnings.push(m) });
    assert.deepEqual(found, []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /empty has no plugin\.json; ignored/);
  });

  it("skips IMGCOPY_PLUGINS and the user's folder when asked", () => {
    const found = discoverPlugins({ bundled: [], env: { IMGCOPY_PLUGINS: TARBALL }, user: false });
    assert.deepEqual(found, []);
  });

  it("refuses a --plugin path that does not exist, naming it", () => {
    const gone = join(dir.path, "gone");
    assert.throws(
      () => discoverPlugins({ bundled: [], paths: [gone] }),
      (err: Error) => isImgcopyError(err) && err.code === "EPLUGIN" && err.message.includes(gone) && /no such file/.test(err.message),
    );
  });

  it("skips an IMGCOPY_PLUGINS entry that does not exist with one warning naming it", () => {
    const gone = join(dir.path, "gone");
    const warnings: string[] = [];
    const found = discoverPlugins({ bundled: [], env: { IMGCOPY_PLUGINS: `${gone}:${TARBALL}`, HOME: "/nonexistent" }, warn: (m) => warnings.push(m) });
    assert.deepEqual(found.map((f) => f.source), ["env"]);
    assert.deepEqual(warnings, [`IMGCOPY_PLUGINS entry ${gone}: no such file or directory (expected a plugin folder or its plugin.json); ignored`]);
  });
});

describe("userPluginFolder", () => {
  it("uses XDG_CONFIG_HOME when absolute, else ~/.config", () => {
    assert.equal(userPluginFolder({ XDG_CONFIG_HOME: "/cfg", HOME: "/home/u" }), "/cfg/imgcopy/plugins");
    assert.equal(userPluginFolder({ HOME: "/home/u" }), "/home/u/.config/imgcopy/plugins");
    assert.equal(userPluginFolder({ XDG_CONFIG_HOME: "relative", HOME: "/home/u" }), "/home/u/.config/imgcopy/plugins");
  });
});

describe("manifestPathFor", () => {
  it("takes a folder or the file", () => {
    assert.equal(manifestPathFor(TARBALL, "--plugin"), join(TARBALL, "plugin.json"));
    assert.equal(manifestPathFor(join(TARBALL, "plugin.json"), "--plugin"), join(TARBALL, "plugin.json"));
  });
});
