// Copies a real image (built with buildah from scratch, exported by skopeo) to and from a third-party
// transport (the tarball test plugin) through the command line, loading the plugin every way there is.
import assert from "node:assert/strict";
import { mkdir, open, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBaseImage, createStore, skopeoCopy, skopeoInspect, type Store } from "../helpers/buildah-store.js";
import { run, tempDir } from "../helpers/tools.js";
import { cleanEnv, fixturePlugin, imgcopy, stderrLines } from "./run-imgcopy.js";

const TARBALL = fixturePlugin("tarball");

let store: Store;
let work: { path: string; cleanup: () => Promise<void> };
let srcRef: string;
let srcDigest: string;

before(async () => {
  store = await createStore("vfs");
  work = await tempDir();
  const base = await buildBaseImage(store);
  srcRef = `oci:${join(work.path, "src-oci")}:latest`;
  await skopeoCopy(store.containersStorageRef(base.name), srcRef);
  srcDigest = (await skopeoInspect(srcRef)).Digest as string;
});

after(async () => {
  await store?.cleanup();
  await work?.cleanup();
});

describe("copying through a plugin transport", () => {
  it("copies oci -> tarball -> dir with the plugin found each way, the same bytes every time", async () => {
    const xdg = join(work.path, "xdg");
    await mkdir(join(xdg, "imgcopy", "plugins"), { recursive: true });
    await symlink(TARBALL, join(xdg, "imgcopy", "plugins", "tarball"));
    const ways: [string, string[], NodeJS.ProcessEnv][] = [
      ["plugin-folder", ["--plugin", TARBALL], {}],
      ["plugin-file", ["--plugin", join(TARBALL, "plugin.json")], {}],
      ["env", [], { IMGCOPY_PLUGINS: TARBALL }],
      ["xdg", [], { XDG_CONFIG_HOME: xdg }],
    ];
    const archives: Buffer[] = [];
    for (const [way, pluginArgs, extraEnv] of ways) {
      const env = cleanEnv(work.path, extraEnv);
      const tar = join(work.path, `${way}.tar`);
      const toTar = await imgcopy([...pluginArgs, srcRef, `tarball:${tar}`], { env });
      assert.equal(toTar.code, 0, `${way}: ${toTar.stderr}`);
      assert.equal(toTar.stdout, "", "a copy prints nothing on stdout");
      const lines = stderrLines(toTar);
      assert.match(lines[0]!, /^Copying blob [0-9a-f]{12} done$/);
      assert.equal(lines.at(-1), "Writing manifest to image destination");
      assert.ok(lines.some((l) => /^Copying config [0-9a-f]{12} done$/.test(l)));
      archives.push(await readFile(tar));

      const digestFile = join(work.path, `${way}.digest`);
      const toDir = await imgcopy([...pluginArgs, "copy", "-q", "--digestfile", digestFile, `tarball:${tar}`, `dir:${join(work.path, `${way}-dir`)}`], { env });
      assert.equal(toDir.code, 0, `${way}: ${toDir.stderr}`);
      assert.equal(toDir.stderr, "", "--quiet prints no progress");
      assert.equal(await readFile(digestFile, "utf8"), srcDigest);
      assert.equal((await skopeoInspect(`dir:${join(work.path, `${way}-dir`)}`)).Digest, srcDigest);
    }
    for (const a of archives.slice(1)) assert.ok(a.equals(archives[0]!), "every way gives the same archive");
  });

  it("copies back from the tarball into an OCI layout that skopeo reads as the same image", async () => {
    const tar = join(work.path, "round.tar");
    assert.equal((await imgcopy(["--plugin", TARBALL, srcRef, `tarball:${tar}`, "-q"])).code, 0);
    const back = `oci:${join(work.path, "back-oci")}:v1`;
    const r = await imgcopy(["--plugin", TARBALL, "--progress", "json", `tarball:${tar}`, back]);
    assert.equal(r.code, 0, r.stderr);
    const events = stderrLines(r).map((l) => JSON.parse(l) as { kind: string; state: string });
    assert.ok(events.some((e) => e.kind === "blob" && e.state === "done"));
    assert.ok(events.some((e) => e.kind === "manifest"));
    const [orig, copied] = [await skopeoInspect(srcRef), await skopeoInspect(back)];
    assert.equal(copied.Digest, orig.Digest);
    assert.deepEqual(copied.Layers, orig.Layers);
    // skopeo verifies every blob while copying it out again.
    await skopeoCopy(back, `dir:${join(work.path, "back-dir")}`);
  });

  it("inspects and lists through the plugin", async () => {
    const folder = join(work.path, "shelf");
    await mkdir(folder);
    assert.equal((await imgcopy(["--plugin", TARBALL, "-q", srcRef, `tarball:${join(folder, "one.tar")}`])).code, 0);

    const inspect = await imgcopy(["--plugin", TARBALL, "inspect", `tarball:${join(folder, "one.tar")}`]);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal((JSON.parse(inspect.stdout) as { Digest: string }).Digest, srcDigest);
    assert.match(inspect.stdout, /^\{\n {4}"Digest"/, "printed as skopeo prints it: 4-space indent");
    const raw = await imgcopy(["--plugin", TARBALL, "inspect", "--raw", `tarball:${join(folder, "one.tar")}`]);
    assert.equal(raw.stdout, (await run("skopeo", ["inspect", "--raw", srcRef])).stdout);

    const table = await imgcopy(["--plugin", TARBALL, "list", `tarball:${folder}`]);
    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.trimEnd().split("\n");
    assert.match(rows[0]!, /^ID\s+TYPE\s+NAMES\s+IMAGE\s+SIZE\s+CREATED$/);
    assert.match(rows[1]!, new RegExp(`^${srcDigest.slice(7, 19)}\\s+image\\s+one\\.tar\\s+-\\s+[0-9.]+ kB\\s+\\S`));
    const json = await imgcopy(["--plugin", TARBALL, "list", "--json", `tarball:${folder}`]);
    assert.deepEqual((JSON.parse(json.stdout) as { names: string[] }[]).map((i) => i.names), [["one.tar"]]);
  });

  it("refuses to list with a transport that cannot list", async () => {
    const r = await imgcopy(["list", `oci:${work.path}`]);
    assert.equal(r.code, 4);
    assert.deepEqual(stderrLines(r), ['imgcopy: transport "oci" cannot list what a location holds']);
  });

  it("streams a docker archive to stdout with nothing else on it; --additional-tag takes one value", async () => {
    const out = join(work.path, "stdout.tar");
    const fh = await open(out, "w");
    try {
      const r = await imgcopy(["--additional-tag", "localhost/extra:2", srcRef, "docker-archive:/dev/stdout:localhost/main:1"], { stdoutFd: fh.fd });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Writing manifest to image destination/);
    } finally {
      await fh.close();
    }
    const archived = JSON.parse((await run("tar", ["-xOf", out, "manifest.json"])).stdout) as { RepoTags: string[] }[];
    assert.deepEqual(archived[0]?.RepoTags, ["localhost/main:1", "localhost/extra:2"]);
    const inspected = await skopeoInspect(`docker-archive:${out}`);
    assert.equal((inspected.Layers as string[]).length, ((await skopeoInspect(srcRef)).Layers as string[]).length);
  });
});
