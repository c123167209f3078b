import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ListedTransport as Listed } from "../../src/cli/commands/transports-command.js";
import { tempDir } from "../helpers/tools.js";
import { cleanEnv, fixturePlugin, imgcopy, stderrLines, type CliResult } from "./run-imgcopy.js";

let home: { path: string; cleanup: () => Promise<void> };
before(async () => {
  home = await tempDir();
});
after(async () => {
  await home.cleanup();
});

/** Asserts a failed command: exit 7 (EPLUGIN), one stderr line matching `pattern`, nothing on stdout. */
function assertFailed(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 7, `exit code; stderr: ${r.stderr}`);
  const lines = stderrLines(r);
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, "");
}

/** Asserts a refused plugin: the command went on (exit 0), and stderr is one warning line matching `pattern`. */
function assertIgnored(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 0, `exit code; stderr: ${r.stderr}`);
  const lines = stderrLines(r);
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, /^imgcopy: warning: plugin \S+ \(\/.*\) ignored: /);
  assert.match(lines[0]!, pattern);
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
  it("skips a plugin made for another API version with one warning naming plugin, file, range and host version", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("incompatible-api"), "transports"]);
    assertIgnored(r, /^imgcopy: warning: plugin future-plugin@3\.0\.0 \(.*incompatible-api\/plugin\.json\) ignored: requires imgcopy plugin API "\^2\.0\.0", but this imgcopy provides API 1\.0\.0/);
    assert.match(r.stdout, /\noci\s+imgcopy-formats\s/, "the other transports are listed");
    assert.match(r.stdout, /\nREFUSED PLUGINS \(ignored\)\nPLUGIN\s+VERSION\s+TRANSPORTS\s+MANIFEST\s+REASON\nfuture-plugin\s+3\.0\.0\s+future\s+\/\S+incompatible-api\/plugin\.json\s+requires imgcopy plugin API/);
  });

  it("lists refused plugins in --json with their status and reason", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("incompatible-api"), "transports", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as Listed[];
    assert.equal(listed.find((t) => t.name === "oci")?.status, "ok");
    const future = listed.find((t) => t.name === "future");
    assert.equal(future?.status, "refused");
    assert.equal(future?.plugin, "future-plugin");
    assert.match(future?.manifest ?? "", /incompatible-api\/plugin\.json$/);
    assert.match(future?.reason ?? "", /^requires imgcopy plugin API "\^2\.0\.0"/);
  });

  it("a reference to a refused plugin's transport fails with the plugin's reason; other commands still work", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("incompatible-api"), "inspect", "future:x"]);
    assert.equal(r.code, 7, r.stderr);
    const lines = stderrLines(r);
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, /^imgcopy: warning: plugin future-plugin@3\.0\.0 .* ignored: /);
    assert.match(lines[1]!, /^imgcopy: transport "future" is not available: plugin future-plugin@3\.0\.0 \(.*incompatible-api\/plugin\.json\) was ignored: requires imgcopy plugin API "\^2\.0\.0"/);
    const other = await imgcopy(["--plugin", fixturePlugin("incompatible-api"), "inspect", `oci:${join(home.path, "absent")}`]);
    assert.equal(other.code, 3, "the oci transport still runs (and finds no layout)");
    assert.match(other.stderr, /^imgcopy: warning: plugin future-plugin@3\.0\.0 /);
  });

  it("skips the second of two plugins declaring one transport, naming both", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("tarball"), "--plugin", fixturePlugin("duplicate-name"), "transports"]);
    assertIgnored(r, /^imgcopy: warning: plugin tarball-twin@0\.9\.0 \(.*duplicate-name\/plugin\.json\) ignored: declares transport "tarball", which plugin imgcopy-tarball@1\.2\.0 \(.*tarball\/plugin\.json\) already declares/);
    assert.match(r.stdout, /\ntarball\s+imgcopy-tarball\s+1\.2\.0\s/, "the first one keeps the name");
    assert.match(r.stdout, /\ntarball-twin\s+0\.9\.0\s+tarball\s/);
  });

  it("skips a plugin that redeclares a bundled transport", async () => {
    const plugin = join(home.path, "dir-again");
    await mkdir(plugin, { recursive: true });
    await writeFile(join(plugin, "plugin.json"), JSON.stringify({ name: "dir-again", version: "1.0.0", imgcopyApi: "^1", transports: [{ name: "dir", module: "./x.js", description: "" }] }));
    const r = await imgcopy(["--plugin", plugin, "transports"]);
    assertIgnored(r, /plugin dir-again@1\.0\.0 .* ignored: declares transport "dir", which plugin imgcopy-formats@0\.1\.0 \(.*transports\/plugin\.json\) already declares/);
    assert.match(r.stdout, /\ndir\s+imgcopy-formats\s/);
  });

  it("fails the command that names a transport whose module is missing", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("missing-module"), "ghost:x", "dir:/nonexistent/out"]);
    assertFailed(r, /^imgcopy: plugin ghost@1\.0\.0: module .*missing-module\/not-there\.js \(transport "ghost"\) not found/);
  });

  it("fails the command that names a module exporting something that is not a transport", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("garbage-export"), "inspect", "garbage:x"]);
    assertFailed(r, /^imgcopy: plugin garbage@1\.0\.0: module .*garbage-export\/garbage\.js \(transport "garbage"\): its default export is not an ImageTransport/);
  });

  it("fails the command that names a module that throws on import", async () => {
    const r = await imgcopy(["--plugin", fixturePlugin("throws-on-import"), "explosive:x", "dir:/nonexistent/out"]);
    assertFailed(r, /^imgcopy: plugin explosive@1\.0\.0: module .*explosive\.js \(transport "explosive"\) failed to import: explosive module was imported$/);
  });

  it("skips a malformed plugin.json, naming the file", async () => {
    const r = await imgcopy(["transports"], { env: cleanEnv(home.path, { IMGCOPY_PLUGINS: fixturePlugin("malformed-json") }) });
    assertIgnored(r, /^imgcopy: warning: plugin malformed-json \(.*malformed-json\/plugin\.json\) ignored: not valid JSON/);
  });

  it("skips a plugin.json with a missing field, naming file and field, and explains its transport", async () => {
    const plugin = join(home.path, "no-version");
    await mkdir(plugin, { recursive: true });
    await writeFile(join(plugin, "plugin.json"), JSON.stringify({ name: "nov", imgcopyApi: "^1", transports: [{ name: "nov", module: "./x.js", description: "" }] }));
    const r = await imgcopy(["--plugin", plugin, "transports"]);
    assertIgnored(r, /^imgcopy: warning: plugin no-version \(.*no-version\/plugin\.json\) ignored: field "version" is missing$/);
    const used = await imgcopy(["--plugin", plugin, "nov:x", "dir:/nonexistent/out"]);
    assert.equal(used.code, 7);
    assert.match(stderrLines(used).at(-1)!, /^imgcopy: transport "nov" is not available: plugin no-version \(.*\) was ignored: field "version" is missing$/);
  });

  it("fails on a --plugin path that does not exist, but only warns about a stale IMGCOPY_PLUGINS entry", async () => {
    const r = await imgcopy(["--plugin", join(home.path, "nowhere"), "transports"]);
    assertFailed(r, /^imgcopy: --plugin .*nowhere: no such file or directory/);
    const env = await imgcopy(["transports"], { env: cleanEnv(home.path, { IMGCOPY_PLUGINS: join(home.path, "nowhere") }) });
    assert.equal(env.code, 0, env.stderr);
    assert.deepEqual(stderrLines(env), [`imgcopy: warning: IMGCOPY_PLUGINS entry ${join(home.path, "nowhere")}: no such file or directory (expected a plugin folder or its plugin.json); ignored`]);
  });
});
