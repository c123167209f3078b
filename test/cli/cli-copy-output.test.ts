// What the copy command says around a real copy: flags it cannot apply, a --digestfile that could not
// be written, a reader that closes the pipe, read-only destinations, and --all progress per image.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createStore, skopeoInspect, type Store } from "../helpers/buildah-store.js";
import { run, tempDir } from "../helpers/tools.js";
import { cleanEnv, imgcopy, installImgcopyCommand, stderrLines } from "./run-imgcopy.js";
import type { ProgressEvent } from "../../src/types.js";

let store: Store;
let work: { path: string; cleanup: () => Promise<void> };
let single: string;
let list: string;
let imageDigests: string[];

/** Commits a scratch image holding `file` for `arch`; returns its name. */
async function scratchImage(name: string, arch: string, file: string): Promise<string> {
  const ctr = await store.buildah(["from", "--name", `${name}-ctr`, "scratch"]);
  await run("sh", ["-c", `head -c 200000 /dev/urandom > "$1/${file}"`, "sh", await store.buildah(["mount", ctr])]);
  await store.buildah(["config", "--arch", arch, ctr]);
  await store.buildah(["commit", "--quiet", "--rm", ctr, `localhost/${name}:1`]);
  return `localhost/${name}:1`;
}

before(async () => {
  store = await createStore("vfs");
  work = await tempDir();
  const a = await scratchImage("one", "amd64", "a.bin");
  const b = await scratchImage("two", "arm64", "b.bin");
  single = `oci:${join(work.path, "single")}:latest`;
  await store.buildah(["push", "--quiet", a, single]);
  await store.buildah(["manifest", "create", "localhost/pair"]);
  for (const img of [a, b]) await store.buildah(["manifest", "add", "localhost/pair", `containers-storage:${img}`]);
  list = `oci:${join(work.path, "list")}:l`;
  await store.buildah(["manifest", "push", "--quiet", "--all", "localhost/pair", list]);
  imageDigests = ((await skopeoInspect(list, ["--raw"])).manifests as { digest: string }[]).map((m) => m.digest);
});
after(async () => {
  await store?.cleanup();
  await work?.cleanup();
});

describe("copy: flags that would be ignored", () => {
  it("warns once, naming them, when commit flags are given for a source that does not commit", async () => {
    const dest = `oci:${join(work.path, "author")}:t`;
    const r = await imgcopy(["-q", "--author", "x", "-m", "hi", "--annotation", "a=b", "--include-volumes", single, dest]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(stderrLines(r), [
      `imgcopy: warning: --author, --message, --annotation, --include-volumes ignored: only a container-copy: or containers-storage: source applies commit options, and the source is ${single}`,
    ]);
    assert.equal((await skopeoInspect(dest, ["--config"])).author, undefined);
  });

  it("says nothing when no commit flag is given", async () => {
    const r = await imgcopy(["-q", single, `oci:${join(work.path, "plain")}:t`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  });
});

describe("copy: --digestfile", () => {
  it("refuses a digest file in a missing folder before copying anything", async () => {
    const out = join(work.path, "never");
    const r = await imgcopy(["-q", "--digestfile", join(work.path, "no", "dir", "digest"), single, `oci:${out}:t`]);
    assert.equal(r.code, 2);
    assert.deepEqual(stderrLines(r), [`imgcopy: --digestfile ${join(work.path, "no", "dir", "digest")}: directory ${join(work.path, "no", "dir")} does not exist (see "imgcopy --help")`]);
    assert.ok(!(await readdir(work.path)).includes("never"), "nothing was copied");
  });

  it("refuses a digest file that is a folder", async () => {
    const r = await imgcopy(["-q", "--digestfile", work.path, single, `oci:${join(work.path, "never2")}:t`]);
    assert.equal(r.code, 2);
    assert.equal(stderrLines(r).length, 1);
    assert.match(r.stderr, /--digestfile .*: is a directory/);
  });
});

describe("copy: outputs that go away or cannot be written", () => {
  it("a reader that closes the pipe early (| head -c 10): exit 141 and one line", async () => {
    const bin = await installImgcopyCommand(work.path);
    const env = cleanEnv(work.path, { PATH: `${bin}:${process.env.PATH ?? ""}` });
    const script = `imgcopy -q "$1" docker-archive:/dev/stdout 2>"$2" | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`;
    const errFile = join(work.path, "epipe.err");
    const { stdout } = await run("bash", ["-c", script, "bash", single, errFile], { env });
    assert.equal(stdout.trim(), "141");
    const { stdout: err } = await run("cat", [errFile]);
    assert.deepEqual(err.split("\n").filter((l) => l !== ""), ["imgcopy: docker-archive:/dev/stdout: the reader closed the pipe early"]);
  });

  it("a read-only destination is named by its reference", async () => {
    const dest = `containers-storage:${store.bracket}localhost/x:1`;
    const r = await imgcopy(["-q", single, dest]);
    assert.equal(r.code, 4);
    assert.deepEqual(stderrLines(r), [`imgcopy: ${dest}: is read-only; writing into a store is not supported`]);
  });
});

describe("copy --all: progress per image", () => {
  it("lines: each image announced with its place before its blobs, then the list", async () => {
    const r = await imgcopy(["--all", "--progress", "lines", list, `oci:${join(work.path, "all-lines")}:l`]);
    assert.equal(r.code, 0, r.stderr);
    const lines = stderrLines(r).filter((l) => !l.startsWith("Copying blob") && !l.startsWith("Copying config"));
    const short = imageDigests.map((d) => d.slice("sha256:".length, "sha256:".length + 12));
    assert.deepEqual(lines, [
      `Copying image ${short[0]} (1/2)`,
      "Writing manifest to image destination",
      `Copying image ${short[1]} (2/2)`,
      "Writing manifest to image destination",
      "Writing manifest list to image destination",
    ]);
  });

  it("json: image and manifest events carry the image's digest; the list's manifest event says list", async () => {
    const r = await imgcopy(["--all", "--progress", "json", list, `dir:${join(work.path, "all-json")}`]);
    assert.equal(r.code, 0, r.stderr);
    const events = stderrLines(r).map((l) => JSON.parse(l) as ProgressEvent);
    const starts = events.filter((e) => e.kind === "image" && e.state === "start");
    assert.deepEqual(starts.map((e) => [e.digest, e.position, e.count]), [[imageDigests[0], 1, 2], [imageDigests[1], 2, 2]]);
    const manifestsDone = events.filter((e) => e.kind === "manifest" && e.state === "done");
    assert.deepEqual(manifestsDone.map((e) => [e.digest, e.list === true]), [[imageDigests[0], false], [imageDigests[1], false], [manifestsDone[2]?.digest, true]]);
    assert.match(manifestsDone[2]?.digest ?? "", /^sha256:[0-9a-f]{64}$/);
  });
});
