// registries.conf: which file, drop-ins, longest prefix, location rewrite, insecure, blocked, pull
// mirrors (pull-from-mirror), v1 tables, and errors that name the file and line.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { planRegistry, registriesConfFiles } from "../../../transports/docker/registries-conf.js";
import type { SystemContext } from "../../../src/types.js";
import { tempDir } from "../../helpers/tools.js";

let work: { path: string; cleanup: () => Promise<void> };
let n = 0;
before(async () => {
  work = await tempDir("imgcopy-regconf-");
});
after(async () => work?.cleanup());

async function conf(text: string, dropIns: Record<string, string> = {}): Promise<SystemContext> {
  const dir = join(work.path, `c${++n}`);
  await mkdir(`${join(dir, "registries.conf")}.d`, { recursive: true });
  await writeFile(join(dir, "registries.conf"), text);
  for (const [name, body] of Object.entries(dropIns)) await writeFile(join(`${join(dir, "registries.conf")}.d`, name), body);
  return { env: { HOME: join(dir, "home") }, registriesConfPath: join(dir, "registries.conf") };
}

const MAIN = `
unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "example.com"
location = "internal.example:5000"
insecure = true

[[registry]]
prefix = "example.com/team"
location = "team-mirror.example/mirrored/team"

[[registry]]
location = "quay.example"
blocked = true

[[registry]]
prefix = "docker.io/library"
location = "docker.io/library"

[[registry.mirror]]
location = "mirror-a.example:5000/hub"
insecure = true

[[registry.mirror]]
location = "mirror-b.example/digests"
pull-from-mirror = "digest-only"

[[registry.mirror]]
location = "mirror-c.example/tags"
pull-from-mirror = "tag-only"

[[registry]]
prefix = "*.wild.example"
insecure = true
`;

describe("registries.conf", () => {
  it("no matching entry: the name as it is, secure, no mirrors", async () => {
    const ctx = await conf(MAIN);
    assert.deepEqual(await planRegistry("other.example/a/b", ctx), { blocked: false, primary: { location: "other.example/a/b", insecure: false }, pullMirrors: [] });
    // A prefix matches whole path components only.
    assert.equal((await planRegistry("example.community/a", ctx)).primary.location, "example.community/a");
  });

  it("the longest prefix wins and its location replaces the prefix", async () => {
    const ctx = await conf(MAIN);
    assert.deepEqual((await planRegistry("example.com/other/x", ctx)).primary, { location: "internal.example:5000/other/x", insecure: true });
    assert.deepEqual((await planRegistry("example.com/team/web:1", ctx)).primary, { location: "team-mirror.example/mirrored/team/web", insecure: false });
    assert.deepEqual((await planRegistry("example.com", ctx)).primary, { location: "internal.example:5000", insecure: true });
  });

  it("blocked entries say so", async () => {
    const ctx = await conf(MAIN);
    assert.equal((await planRegistry("quay.example/a/b", ctx)).blocked, true);
    assert.equal((await planRegistry("docker.io/library/busybox", ctx)).blocked, false);
  });

  it("mirrors in order, rewritten, filtered by pull-from-mirror (tag vs digest pulls)", async () => {
    const ctx = await conf(MAIN);
    const byTag = await planRegistry("docker.io/library/busybox:latest", ctx);
    assert.deepEqual(byTag.pullMirrors, [
      { location: "mirror-a.example:5000/hub/busybox", insecure: true },
      { location: "mirror-c.example/tags/busybox", insecure: false },
    ]);
    assert.deepEqual(byTag.primary, { location: "docker.io/library/busybox", insecure: false });
    const byDigest = await planRegistry(`docker.io/library/busybox@sha256:${"a".repeat(64)}`, ctx);
    assert.deepEqual(byDigest.pullMirrors.map((m) => m.location), ["mirror-a.example:5000/hub/busybox", "mirror-b.example/digests/busybox"]);
    // Without a tag or digest: a tag pull.
    assert.equal((await planRegistry("docker.io/library/busybox", ctx)).pullMirrors.length, 2);
  });

  it("mirror-by-digest-only keeps mirrors for digest pulls only", async () => {
    const ctx = await conf(`[[registry]]\nprefix = "r.example"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.example"\n`);
    assert.deepEqual((await planRegistry("r.example/a:1", ctx)).pullMirrors, []);
    assert.deepEqual((await planRegistry(`r.example/a@sha256:${"b".repeat(64)}`, ctx)).pullMirrors, [{ location: "m.example/a", insecure: false }]);
  });

  it("a wildcard prefix matches subdomains without rewriting", async () => {
    const ctx = await conf(MAIN);
    assert.deepEqual((await planRegistry("a.wild.example:5000/x", ctx)).primary, { location: "a.wild.example:5000/x", insecure: true });
    assert.equal((await planRegistry("wild.example/x", ctx)).primary.insecure, false);
  });

  it("drop-ins are read in name order and replace entries with the same prefix", async () => {
    const ctx = await conf(MAIN, {
      "50-second.conf": `[[registry]]\nprefix = "example.com"\nlocation = "second.example"\n`,
      "10-first.conf": `[[registry]]\nprefix = "example.com"\nlocation = "first.example"\n[[registry]]\nlocation = "new.example"\nblocked = true\n`,
      "ignored.txt": `not toml at all [[[`,
    });
    assert.equal((await planRegistry("example.com/a", ctx)).primary.location, "second.example/a");
    assert.equal((await planRegistry("new.example/a", ctx)).blocked, true);
    assert.deepEqual(
      (await registriesConfFiles(ctx)).map((f) => f.split("/").pop()),
      ["registries.conf", "10-first.conf", "50-second.conf"],
    );
  });

  it("REGISTRIES_CONFIG_PATH alone when given; else the user's file replaces the system one", async () => {
    const ctx = await conf(`[[registry]]\nlocation = "env.example"\nblocked = true\n`);
    const viaEnv: SystemContext = { env: { HOME: join(work.path, "none"), REGISTRIES_CONFIG_PATH: ctx.registriesConfPath! } };
    assert.equal((await planRegistry("env.example/a", viaEnv)).blocked, true);
    const home = join(work.path, `home${++n}`);
    await mkdir(join(home, ".config", "containers"), { recursive: true });
    await writeFile(join(home, ".config", "containers", "registries.conf"), `[[registry]]\nlocation = "user.example"\nblocked = true\n`);
    const files = await registriesConfFiles({ env: { HOME: home } });
    assert.equal(files[0], join(home, ".config", "containers", "registries.conf"));
    assert.equal((await planRegistry("user.example/a", { env: { HOME: home } })).blocked, true);
  });

  it("the v1 tables: [registries.insecure] and [registries.block]", async () => {
    const ctx = await conf(`[registries.search]\nregistries = ["docker.io"]\n[registries.insecure]\nregistries = ["old.example:5000"]\n[registries.block]\nregistries = ["bad.example"]\n`);
    assert.deepEqual((await planRegistry("old.example:5000/a", ctx)).primary, { location: "old.example:5000/a", insecure: true });
    assert.equal((await planRegistry("bad.example/a", ctx)).blocked, true);
  });

  it("bad TOML: one line naming the file and the line", async () => {
    const ctx = await conf(`[[registry]]\nprefix = "a.example"\n\n[[registry]]\nlocation = "b.example\ninsecure = true\n`);
    await assert.rejects(planRegistry("a.example/x", ctx), (err: Error) => {
      assert.equal(err.name, "CorruptInputError");
      assert.match(err.message, new RegExp(`^${ctx.registriesConfPath}:5: `));
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  });

  it("bad values name the file, the line in the right table and what was expected", async () => {
    const ctx = await conf(`[[registry]]\nprefix = "a.example"\ninsecure = true\n\n[[registry]]\nprefix = "b.example"\ninsecure = "yes"\n`);
    await assert.rejects(planRegistry("a.example/x", ctx), new RegExp(`: ${ctx.registriesConfPath}:7: insecure must be true or false$`));
    const mode = await conf(`[[registry]]\nprefix = "a.example"\n[[registry.mirror]]\nlocation = "m"\npull-from-mirror = "sometimes"\n`);
    await assert.rejects(planRegistry("a.example/x", mode), /registries.conf:5: pull-from-mirror = "sometimes": expected "all", "digest-only" or "tag-only"/);
  });
});
