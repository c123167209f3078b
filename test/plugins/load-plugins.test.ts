import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { isImgcopyError } from "../../src/errors.js";
import { bundledManifestPaths, loadPlugins, lookupTransport, parseReferenceIn, refusedPlugins } from "../../src/plugins.js";
import { TransportRegistry } from "../../src/registry.js";
import { tempDir } from "../helpers/tools.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/plugins/${name}`, import.meta.url));
const NO_USER_ENV = { HOME: "/nonexistent", XDG_CONFIG_HOME: "/nonexistent" };

/** Loads only the named fixture plugins into a fresh registry; refusals are thrown (strict). */
function load(paths: string[], registry = new TransportRegistry()): TransportRegistry {
  loadPlugins({ registry, paths, bundled: false, env: NO_USER_ENV, strict: true });
  return registry;
}

/** Loads the named plugins leniently (the default), collecting the warnings. */
function loadLenient(paths: string[], registry = new TransportRegistry()): { registry: TransportRegistry; warnings: string[] } {
  const warnings: string[] = [];
  loadPlugins({ registry, paths, bundled: false, env: NO_USER_ENV, warn: (m) => warnings.push(m) });
  return { registry, warnings };
}

function pluginError(pattern: RegExp): (err: Error) => boolean {
  return (err) => {
    assert.ok(isImgcopyError(err) && err.code === "EPLUGIN", `expected a PluginError, got ${err}`);
    assert.ok(!err.message.includes("\n"), `one line: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  };
}

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.cleanup();
});

describe("loadPlugins", () => {
  it("declares the bundled transports without importing them", () => {
    const registry = new TransportRegistry();
    const loaded = loadPlugins({ registry, env: NO_USER_ENV });
    assert.deepEqual(loaded.map((p) => p.manifestPath), bundledManifestPaths());
    assert.deepEqual(registry.names(), ["container-copy", "containers-storage", "dir", "docker", "docker-archive", "oci"]);
    assert.ok(registry.list().every((e) => !e.loaded && e.origin?.manifestPath !== undefined));
  });

  it("declares a plugin whose module throws on import, and imports it only on lookup", async () => {
    const registry = load([fixture("throws-on-import")]);
    const entry = registry.list().find((e) => e.name === "explosive");
    assert.equal(entry?.loaded, false);
    assert.equal(entry?.description, "its module throws when imported");
    await assert.rejects(registry.lookup("explosive"), pluginError(/plugin explosive@1\.0\.0: module .*explosive\.js \(transport "explosive"\) failed to import: explosive module was imported/));
  });

  it("imports the transport a reference names, and it works", async () => {
    const registry = load([fixture("tarball")]);
    const ref = await registry.parseReference("tarball:/tmp/x.tar");
    assert.equal(ref.toString(), "tarball:/tmp/x.tar");
    assert.equal(registry.list()[0]?.loaded, true);
  });

  it("picks the declared transport out of an array default export", async () => {
    const plugin = join(dir.path, "pair");
    await mkdir(plugin);
    await writeFile(
      join(plugin, "pair.js"),
      `const make = (name) => ({ name, parseReference: (rest) => ({ transport: null, toString: () => name + ":" + rest }) });
       export default [make("left"), make("right")];`,
    );
    await writeFile(
      join(plugin, "plugin.json"),
      JSON.stringify({
        name: "pair",
        version: "1.0.0",
        imgcopyApi: "^1.0.0",
        transports: [
          { name: "left", module: "./pair.js", description: "" },
          { name: "right", module: "./pair.js", description: "" },
          { name: "middle", module: "./pair.js", description: "" },
        ],
      }),
    );
    const registry = load([plugin]);
    assert.equal((await registry.lookup("right")).name, "right");
    assert.equal((await registry.lookup("left")).name, "left");
    await assert.rejects(registry.lookup("middle"), pluginError(/no transport named "middle" \(it has: left, right\)/));
  });

  it("refuses a module that does not exist, naming plugin and module", async () => {
    const registry = load([fixture("missing-module")]);
    await assert.rejects(registry.lookup("ghost"), pluginError(/plugin ghost@1\.0\.0: module .*not-there\.js \(transport "ghost"\) not found/));
  });

  it("refuses a module exporting something that is not a transport", async () => {
    const registry = load([fixture("garbage-export")]);
    await assert.rejects(registry.lookup("garbage"), pluginError(/plugin garbage@1\.0\.0: module .*garbage\.js .*is not an ImageTransport/));
  });

  it("skips a plugin made for another API version with one warning, and remembers why", async () => {
    const { registry, warnings } = loadLenient([fixture("incompatible-api"), fixture("tarball")]);
    assert.deepEqual(registry.names(), ["tarball"], "the next plugin is still loaded");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^plugin future-plugin@3\.0\.0 \(.*incompatible-api\/plugin\.json\) ignored: requires imgcopy plugin API "\^2\.0\.0", but this imgcopy provides API 1\.0\.0/);
    const [refused] = refusedPlugins(registry);
    assert.equal(refused?.name, "future-plugin");
    assert.equal(refused?.version, "3.0.0");
    assert.equal(refused?.source, "option");
    assert.deepEqual(refused?.transports, ["future"]);
    await assert.rejects(parseReferenceIn(registry, "future:x"), pluginError(/^transport "future" is not available: plugin future-plugin@3\.0\.0 \(.*\) was ignored: requires imgcopy plugin API/));
    await assert.rejects(lookupTransport(registry, "future"), pluginError(/transport "future" is not available/));
    await assert.rejects(parseReferenceIn(registry, "other:x"), (e: Error) => isImgcopyError(e) && e.code === "EBADREF" && /unknown transport "other"/.test(e.message));
  });

  it("with strict, throws the refusal naming plugin, range and host version", () => {
    assert.throws(() => load([fixture("incompatible-api")]), pluginError(/plugin future-plugin@3\.0\.0 .* requires imgcopy plugin API "\^2\.0\.0", but this imgcopy provides API 1\.0\.0/));
  });

  it("skips a second plugin declaring a taken name, naming both, and declares none of its transports", async () => {
    const twin = join(dir.path, "twin");
    await mkdir(twin);
    await writeFile(
      join(twin, "plugin.json"),
      JSON.stringify({
        name: "twin",
        version: "2.0.0",
        imgcopyApi: "^1.0.0",
        transports: [
          { name: "fresh", module: "./x.js", description: "" },
          { name: "tarball", module: "./x.js", description: "" },
        ],
      }),
    );
    assert.throws(() => load([fixture("tarball"), twin]), pluginError(/plugin twin@2\.0\.0 .* declares transport "tarball", which plugin imgcopy-tarball@1\.2\.0 \(.*tarball\/plugin\.json\) already declares/));
    const { registry, warnings } = loadLenient([fixture("tarball"), twin]);
    assert.deepEqual(registry.names(), ["tarball"]);
    assert.match(warnings[0] ?? "", /^plugin twin@2\.0\.0 \(.*twin\/plugin\.json\) ignored: declares transport "tarball", which plugin imgcopy-tarball@1\.2\.0/);
    await assert.rejects(parseReferenceIn(registry, "fresh:x"), pluginError(/transport "fresh" is not available: plugin twin@2\.0\.0 .* already declares/));
    assert.equal((await parseReferenceIn(registry, "tarball:/tmp/x.tar")).toString(), "tarball:/tmp/x.tar", "the first plugin keeps the name");
  });

  it("skips a malformed plugin.json naming the file (strict: throws)", () => {
    assert.throws(() => load([fixture("malformed-json")]), pluginError(/plugin manifest .*malformed-json\/plugin\.json: not valid JSON/));
    const { registry, warnings } = loadLenient([fixture("malformed-json")]);
    assert.match(warnings[0] ?? "", /^plugin malformed-json \(.*malformed-json\/plugin\.json\) ignored: not valid JSON/);
    assert.equal(refusedPlugins(registry)[0]?.version, undefined);
  });

  it("warns about a refused plugin once, however often the plugins are loaded", () => {
    const { registry, warnings } = loadLenient([fixture("incompatible-api")]);
    loadPlugins({ registry, paths: [fixture("incompatible-api")], bundled: false, env: NO_USER_ENV, warn: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1);
    assert.equal(refusedPlugins(registry).length, 1);
  });

  it("loads one manifest once, however many ways it is named", async () => {
    const link = join(dir.path, "tarball-link");
    await symlink(fixture("tarball"), link);
    const registry = new TransportRegistry();
    const first = loadPlugins({ registry, paths: [fixture("tarball"), link], bundled: false, env: { ...NO_USER_ENV, IMGCOPY_PLUGINS: fixture("tarball") } });
    assert.equal(first.length, 1);
    assert.deepEqual(loadPlugins({ registry, paths: [fixture("tarball")], bundled: false, env: NO_USER_ENV }), []);
    assert.deepEqual(registry.names(), ["tarball"]);
  });

  it("finds plugins in IMGCOPY_PLUGINS and the XDG folder", async () => {
    const xdg = join(dir.path, "xdg");
    await mkdir(join(xdg, "imgcopy", "plugins"), { recursive: true });
    await symlink(fixture("garbage-export"), join(xdg, "imgcopy", "plugins", "garbage"));
    const registry = new TransportRegistry();
    const loaded = loadPlugins({ registry, bundled: false, env: { IMGCOPY_PLUGINS: fixture("tarball"), XDG_CONFIG_HOME: xdg } });
    assert.deepEqual(loaded.map((p) => [p.name, p.source]), [["imgcopy-tarball", "env"], ["garbage", "user"]]);
  });
});
