// The store flags (--root, --runroot, --storage-driver) and buildah-commit flags reach the
// container-copy transport through the SystemContext; `list` shows a real store like podman does.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildScratchContainer, createStore, skopeoInspect, type Store } from "../helpers/buildah-store.js";
import { tempDir } from "../helpers/tools.js";
import { imgcopy, stderrLines } from "./run-imgcopy.js";

let store: Store;
let work: { path: string; cleanup: () => Promise<void> };
let storeFlags: string[];

before(async () => {
  store = await createStore("vfs");
  work = await tempDir();
  await buildScratchContainer(store, "flagged");
  storeFlags = ["--root", store.graphRoot, "--runroot", store.runRoot, "--storage-driver", "vfs"];
});
after(async () => {
  await store?.cleanup();
  await work?.cleanup();
});

describe("store and commit flags", () => {
  it("exports a container with the commit flags applied", async () => {
    const dest = `oci:${join(work.path, "out")}:v1`;
    const r = await imgcopy([
      ...storeFlags,
      "--author", "Ann Example",
      "-m", "made in a test",
      "--created-by", "imgcopy test",
      "--timestamp", "1700000000",
      "--annotation", "org.example.a=1",
      "--annotation", "org.example.b=x=y",
      "-c", "ENV FROM_FLAG=yes",
      "-q",
      "container-copy:flagged",
      dest,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "", "no warning: a container-copy source applies every commit flag");
    const config = await skopeoInspect(dest, ["--config"]);
    assert.equal(config.author, "Ann Example");
    assert.equal(config.created, "2023-11-14T22:13:20Z");
    const history = config.history as { created_by?: string; comment?: string }[];
    assert.deepEqual([history.at(-1)?.created_by, history.at(-1)?.comment], ["imgcopy test", "made in a test"]);
    assert.ok(((config.config as { Env: string[] }).Env).includes("FROM_FLAG=yes"));
    const manifest = await skopeoInspect(dest, ["--raw"]);
    const annotations = manifest.annotations as Record<string, string>;
    assert.equal(annotations["org.example.a"], "1");
    assert.equal(annotations["org.example.b"], "x=y");
  });

  it("warns once that --annotation is dropped when the image is written with a Docker v2s2 manifest", async () => {
    const expected = ["imgcopy: warning: --annotation ignored: the image was written with a Docker v2s2 manifest, which has no annotations (use -f oci and an OCI destination)"];
    const v2s2 = await imgcopy([...storeFlags, "-q", "-f", "v2s2", "--annotation", "k=v", "container-copy:flagged", `dir:${join(work.path, "v2s2")}`]);
    assert.equal(v2s2.code, 0, v2s2.stderr);
    assert.deepEqual(stderrLines(v2s2), expected);
    const archive = await imgcopy([...storeFlags, "-q", "--annotation", "k=v", "container-copy:flagged", `docker-archive:${join(work.path, "a.tar")}:x/y:1`]);
    assert.equal(archive.code, 0, archive.stderr);
    assert.deepEqual(stderrLines(archive), expected);
  });

  it("lists the store's containers and images", async () => {
    const r = await imgcopy([...storeFlags, "list", "container-copy:"]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trimEnd().split("\n");
    assert.match(rows[0]!, /^ID\s+TYPE\s+NAMES\s+IMAGE\s+MADE BY\s+SIZE\s+CREATED$/);
    assert.ok(rows.some((row) => /^[0-9a-f]{12}\s+container\s+flagged\s+scratch\s/.test(row)), r.stdout);
  });

  it("names a missing container in one line, exit 3", async () => {
    const r = await imgcopy([...storeFlags, "container-copy:no-such-container", `dir:${join(work.path, "none")}`]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(stderrLines(r).length, 1);
    assert.match(r.stderr, /^imgcopy: .*no-such-container/);
  });

  it("refuses a --timestamp that is not a number of seconds", async () => {
    const r = await imgcopy([...storeFlags, "--timestamp", "-5", "container-copy:flagged", `dir:${join(work.path, "none")}`]);
    assert.equal(r.code, 2);
    assert.deepEqual(stderrLines(r), ['imgcopy: --timestamp needs a number >= 0 (see "imgcopy --help")']);
  });
});
