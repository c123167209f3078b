import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isImgcopyError } from "../../src/errors.js";
import { PluginRefusal, checkApiCompatibility, readPluginManifest, type PluginManifest } from "../../src/plugins/plugin-manifest.js";
import { tempDir } from "../helpers/tools.js";

const VALID = {
  name: "demo",
  version: "1.0.0",
  imgcopyApi: "^1.0.0",
  transports: [{ name: "demo", module: "./demo.js", description: "a demo" }],
};

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.cleanup();
});

let n = 0;
async function manifestFile(content: unknown): Promise<string> {
  const path = join(dir.path, `plugin-${n++}.json`);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/** Reads `content` as a plugin.json and returns the PluginError's message. */
async function refusal(content: unknown): Promise<string> {
  const path = await manifestFile(content);
  try {
    readPluginManifest(path);
  } catch (err) {
    assert.ok(isImgcopyError(err) && err.code === "EPLUGIN", `expected a PluginError, got ${String(err)}`);
    assert.ok(!err.message.includes("\n"), "one line");
    assert.ok(err.message.includes(path), `names the file: ${err.message}`);
    // The reason alone (for "plugin X (PATH) ignored: REASON" warnings) is the message after the file.
    assert.ok(err instanceof PluginRefusal && err.manifestPath === path, "a PluginRefusal naming the file");
    assert.equal(err.message, `plugin manifest ${path}: ${err.reason}`);
    return err.message;
  }
  assert.fail("the manifest was accepted");
}

describe("readPluginManifest", () => {
  it("reads a valid manifest and resolves module paths beside it", async () => {
    const path = await manifestFile(VALID);
    const m = readPluginManifest(path);
    assert.equal(m.name, "demo");
    assert.equal(m.manifestPath, path);
    assert.equal(m.transports[0]?.modulePath, join(dir.path, "demo.js"));
  });

  it("refuses malformed JSON naming the file", async () => {
    assert.match(await refusal('{ "name": "x", '), /not valid JSON/);
  });

  it("refuses a manifest that is not an object", async () => {
    assert.match(await refusal([1, 2]), /expected a JSON object/);
  });

  it("names each missing field", async () => {
    for (const field of ["name", "version", "imgcopyApi", "transports"] as const) {
      const { [field]: _gone, ...rest } = VALID;
      assert.match(await refusal(rest), new RegExp(`field "${field}" is missing`));
    }
  });

  it("names ill-typed fields, including inside transports", async () => {
    assert.match(await refusal({ ...VALID, name: 7 }), /field "name" must be a string, not a number/);
    assert.match(await refusal({ ...VALID, transports: {} }), /field "transports" must be a non-empty array/);
    assert.match(await refusal({ ...VALID, transports: [] }), /field "transports" must be a non-empty array/);
    assert.match(await refusal({ ...VALID, transports: ["x"] }), /field "transports\[0\]" must be an object/);
    const t = VALID.transports[0]!;
    assert.match(await refusal({ ...VALID, transports: [t, { ...t, module: null }] }), /field "transports\[1\]\.module" must be a string, not null/);
    assert.match(await refusal({ ...VALID, transports: [{ name: "x", module: "./x.js" }] }), /field "transports\[0\]\.description" is missing/);
    assert.match(await refusal({ ...VALID, transports: [{ ...t, name: "Bad Name" }] }), /field "transports\[0\]\.name" is "Bad Name", not a transport name/);
  });

  it("refuses a version that is not semver and a range that does not parse", async () => {
    assert.match(await refusal({ ...VALID, version: "one" }), /field "version" is "one", not a semver version/);
    assert.match(await refusal({ ...VALID, imgcopyApi: "latest please" }), /field "imgcopyApi" is "latest please", not a semver range/);
  });

  it("says when the file is missing", async () => {
    assert.throws(() => readPluginManifest(join(dir.path, "nope.json")), /cannot read it: no such file/);
  });
});

describe("checkApiCompatibility", () => {
  const manifest = (imgcopyApi: string): PluginManifest => ({ ...VALID, imgcopyApi, manifestPath: "/p/plugin.json", transports: [] });

  it("accepts a range that includes the host version", () => {
    for (const range of ["^1.0.0", ">=1.0.0 <2", "1.x", "*"]) checkApiCompatibility(manifest(range), "1.0.0");
  });

  it("refuses naming the plugin, its range and the host version", () => {
    assert.throws(
      () => checkApiCompatibility(manifest("^2.0.0"), "1.0.0"),
      (err: Error) =>
        isImgcopyError(err) &&
        err.code === "EPLUGIN" &&
        err.message.includes("plugin demo@1.0.0") &&
        err.message.includes('"^2.0.0"') &&
        err.message.includes("provides API 1.0.0") &&
        err.message.includes("/p/plugin.json") &&
        err instanceof PluginRefusal &&
        err.reason.startsWith('requires imgcopy plugin API "^2.0.0"'),
    );
  });

  it("gives a prerelease host only to ranges that opt in to that prerelease", () => {
    assert.throws(() => checkApiCompatibility(manifest("^2.0.0"), "2.0.0-rc.1"), /provides API 2\.0\.0-rc\.1/);
    assert.throws(() => checkApiCompatibility(manifest(">=1.0.0"), "2.0.0-rc.1"), /requires imgcopy plugin API/);
    checkApiCompatibility(manifest(">=2.0.0-rc.0"), "2.0.0-rc.1");
    // A prerelease range does not stop a plugin from running on the released version.
    checkApiCompatibility(manifest(">=2.0.0-rc.0"), "2.0.0");
  });
});
