import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tempDir } from "../helpers/tools.js";
import { cleanEnv, fixturePlugin, imgcopy, stderrLines, type CliResult } from "./run-imgcopy.js";

let home: { path: string; cleanup: () => Promise<void> };
before(async () => {
  home = await tempDir();
});
after(async () => {
  await home.cleanup();
});

/** Asserts a refusal: exit 7 (EPLUGIN), one stderr line matching `pattern`, nothing on stdout. */
function assertRefused(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 7, `exit code; stderr: ${r.stderr}`);
  const lines = stderrLines(r);
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, "");
}

interface Listed {
  name: string;
  plugin: string;
  version: string;
  description: string;
  manifest: string;
}

describe("imgcopy transports", () => {
  it("lists the bundled transports with plugin, version and description", async () => {
    const r = await imgcopy(["transports"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^TRANSPORT\s+PLUGIN\s+VERSION\s+DESCRIPTION$/);
    assert.match(r.stdout, /\noci\s+imgcopy-formats\s+0\.1\.0\s+an OCI image layout directory\n/);
    assert.match(r.stdout, /\ncontainer-copy\s+container-storage-copy\s+0\.1\.0\s+a container/);
  });

  it("finds a plugin through --plugin FOLDER, --plugin FILE, IMGCOPY_PLUGINS and the XDG folder", async () => {
    const xdg = join(home.path, "xdg");
    await mkdir(join(xdg, "imgcopy", "plugins"), { recursive: true });
    await symlink(fixturePlugin("tarball"), join(xdg, "imgcopy", "plugins", "tarball"));
    const ways: [string, string[], NodeJS.ProcessEnv][] = [
      ["--plugin folder", ["--plugin", fixturePlugin("tarball")], {}],
      ["--plugin file", ["--plugin", join(fixturePlugin("tarball"), "plugin.json")], {}],
      ["IMGCOPY_PLUGINS", [], { IMGCOPY_PLUGINS: `:${fixturePlugin("tarball")}:` }],
      ["XDG_CONFIG_HOME", [], { XDG_CONFIG_HOME: xdg }],
    ];
    for (const [way, args, env] of ways) {
      const r = await imgcopy([...args, "transports", "--json"], { env: cleanEnv(home.path, env) });
      assert.equal(r.code, 0, `${way}: ${r.stderr}`);
      const listed = JSON.parse(r.stdout) as Listed[];
      const tarball = listed.find((t) => t.name === "tarball");
      assert.ok(tarball, `${way}: tarball listed`);
      assert.equal(tarball.plugin, "imgcopy-tarball");
      assert.equal(tarball.version, "1.2.0");
      assert.match(tarball.description, /plain tar/);
      assert.ok(listed.some((t) => t.name === "dir"), `${way}: bundled transports still there`);
    }
  });

  it("finds the user's folder under ~/.config when XDG_CONFIG_HOME is unset", async () => {
    const dir = join(home.path, ".config", "imgcopy", "plugins");
    await mkdir(dir, { recursive: true });
    await symlink(fixturePlugin("garbage-export"), join(dir, "garbage"));
    const r = await imgcopy(["transports"], { env: cleanEnv(home.path) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\ngarbage\s+garbage\s+1\.0\.0\s/);
  });

  it("lists a plugin whose module throws on import: listing imports no transport", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("throws-on-import"), "transports"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nexplosive\s+explosive\s+1\.0\.0\s+its module throws when imported\n/);
    assert.equal(r.stderr, "");
  });
});

describe("plugin refusals on the command line", () => {
  it("refuses a plugin made for another API version, naming plugin, range and host version", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("incompatible-api"), "transports"]);
    assertRefused(r, /^imgcopy: plugin future-plugin@3\.0\.0 \(.*incompatible-api\/plugin\.json\) requires imgcopy plugin API "\^2\.0\.0", but this imgcopy provides API 1\.0\.0/);
  });

  it("refuses two plugins declaring one transport, naming both", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("tarball"), "--plugin", fixturePlugin("duplicate-name"), "transports"]);
    assertRefused(r, /^imgcopy: plugin tarball-twin@0\.9\.0 \(.*duplicate-name\/plugin\.json\) declares transport "tarball", which plugin imgcopy-tarball@1\.2\.0 \(.*tarball\/plugin\.json\) already declares/);
  });

  it("refuses a plugin that redeclares a bundled transport", async () => {
    const plugin = join(home.path, "dir-again");
    await mkdir(plugin, { recursive: true });
    await writeFile(join(plugin, "plugin.json"), JSON.stringify({ name: "dir-again", version: "1.0.0", imgcopyApi: "^1", transports: [{ name: "dir", module: "./x.js", description: "" }] }));
    const r = await imgcopy(["--plugin", plugin, "transports"]);
    assertRefused(r, /declares transport "dir", which plugin imgcopy-formats@0\.1\.0 \(.*transports\/plugin\.json\) already declares/);
  });

  it("refuses a transport whose module is missing when a reference names it", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("missing-module"), "ghost:x", "dir:/nonexistent/out"]);
    assertRefused(r, /^imgcopy: plugin ghost@1\.0\.0: module .*missing-module\/not-there\.js \(transport "ghost"\) not found/);
  });

  it("refuses a module exporting something that is not a transport", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("garbage-export"), "inspect", "garbage:x"]);
    assertRefused(r, /^imgcopy: plugin garbage@1\.0\.0: module .*garbage-export\/garbage\.js \(transport "garbage"\): its default export is not an ImageTransport/);
  });

  it("refuses a module that throws on import when a reference names it", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("throws-on-import"), "explosive:x", "dir:/nonexistent/out"]);
    assertRefused(r, /^imgcopy: plugin explosive@1\.0\.0: module .*explosive\.js \(transport "explosive"\) failed to import: explosive module was imported$/);
  });

  it("refuses a malformed plugin.json, naming the file", async () => {
    const r = await imgcopy(["transports"], { env: cleanEnv(home.path, { IMGCOPY_PLUGINS: fixturePlugin("malformed-json") }) });
    assertRefused(r, /^imgcopy: plugin manifest .*malformed-json\/plugin\.json: not valid JSON/);
  });

  it("refuses a plugin.json with a missing field, naming file and field", async () => {
    const plugin = join(home.path, "no-version");
    await mkdir(plugin, { recursive: true });
    await writeFile(join(plugin, "plugin.json"), JSON.stringify({ name: "nov", imgcopyApi: "^1", transports: [] }));
    const r = await imgcopy(["--plugin", plugin, "transports"]);
    assertRefused(r, /^imgcopy: plugin manifest .*no-version\/plugin\.json: field "version" is missing$/);
  });

  it("refuses a --plugin path that does not exist", async () => {
    const r = await imgcopy(["--plugin", join(home.path, "nowhere"), "transports"]);
    assertRefused(r, /^imgcopy: --plugin .*nowhere: no such file or directory/);
  });
});
