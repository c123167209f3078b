// The bundled sample store (README's `npm run sample`): the archive unpacks into a store buildah
// reads, scripts/sample.sh exports its container and inspects it, and unpacking works without root.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, lstat, mkdir, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { getAttribute } from "fs-xattr";
import { run, tempDir } from "../helpers/tools.js";
import { unpackWithUmoci } from "../helpers/tree-compare.js";

const execFileP = promisify(execFile);
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const ARCHIVE = join(REPO, "test/fixtures/sample-store/store.tar.gz");
const SCRIPT = join(REPO, "scripts/sample.sh");

interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function runScript(script: string, env: NodeJS.ProcessEnv, asUser?: number): Promise<ScriptResult> {
  const cmd = asUser === undefined ? "bash" : "setpriv";
  const args = asUser === undefined ? [script] : [`--reuid=${asUser}`, `--regid=${asUser}`, "--clear-groups", "bash", script];
  try {
    const { stdout, stderr } = await execFileP(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("the bundled sample store", () => {
  let work: { path: string; cleanup: () => Promise<void> };

  before(async () => {
    work = await tempDir("imgcopy-e2e-sample-");
  });
  after(async () => {
    await work?.cleanup();
  });

  it("is small and unpacks into a store where buildah lists the sample container and image", async () => {
    assert.ok((await lstat(ARCHIVE)).size < 1024 * 1024, "the archive stays under 1 MB");
    const graph = join(work.path, "unpacked", "graph");
    const runRoot = join(work.path, "unpacked", "run");
    await mkdir(graph, { recursive: true });
    await mkdir(runRoot);
    await run("tar", ["--xattrs", "--xattrs-include=*", "--numeric-owner", "-p", "-xzf", ARCHIVE, "-C", graph]);
    const flags = ["--root", graph, "--runroot", runRoot, "--storage-driver", "vfs"];
    const containers = (await run("buildah", [...flags, "containers", "--format", "{{.ContainerName}} {{.ImageName}}"])).stdout;
    assert.match(containers, /^sample-container\s+localhost\/sample-base:1$/m);
    const images = (await run("buildah", [...flags, "images", "--format", "{{.Name}}:{{.Tag}}"])).stdout;
    assert.match(images, /^localhost\/sample-base:1$/m);
    for (const lock of ["vfs-layers/layers.lock", "vfs-images/images.lock", "vfs-containers/containers.lock"]) {
      assert.ok(existsSync(join(graph, lock)), `${lock} is in the archive`);
    }
  });

  it("scripts/sample.sh exports sample-container as an OCI image and inspects it", async () => {
    const store = join(work.path, "script-store");
    const out = join(work.path, "script-out");
    const r = await runScript(SCRIPT, { SAMPLE_STORE_DIR: store, SAMPLE_OUT: out });
    assert.equal(r.code, 0, r.stderr);
    const inspected = JSON.parse(r.stdout) as { Layers: string[]; Labels: Record<string, string>; Env: string[] };
    assert.equal(inspected.Layers.length, 3);
    assert.equal(inspected.Labels["org.example.changed"], "true");
    assert.ok(inspected.Env.includes("SAMPLE=yes"));
    const rootfs = await unpackWithUmoci(out, "sample", join(work.path, "sample-unpacked"));
    const notes = await lstat(join(rootfs, "data/notes.txt"));
    assert.deepEqual([notes.uid, notes.gid, notes.mode & 0o7777], [1000, 1000, 0o640]);
    assert.equal((await getAttribute(join(rootfs, "data/notes.txt"), "user.comment")).toString(), "sample xattr");
    assert.match(await readFile(join(rootfs, "opt/app/README"), "utf8"), /changed in the container/);
    assert.equal(existsSync(join(rootfs, "etc/legacy.conf")), false);
    assert.equal(existsSync(join(rootfs, "etc/motd")), false);
    assert.equal((await lstat(join(rootfs, "usr/bin/ping-like"))).mode & 0o7777, 0o4755);
  });

  it("unpacks without root, saying in one line that owners are not restored, and can run twice", async () => {
    const tree = join(work.path, "nonroot");
    await mkdir(join(tree, "scripts"), { recursive: true });
    await mkdir(join(tree, "test/fixtures/sample-store"), { recursive: true });
    await cp(SCRIPT, join(tree, "scripts/sample.sh"));
    await cp(ARCHIVE, join(tree, "test/fixtures/sample-store/store.tar.gz"));
    await run("chown", ["-R", "65534:65534", work.path]);
    const env = { SAMPLE_EXTRACT_ONLY: "1", HOME: tree };
    for (let i = 0; i < 2; i++) {
      const r = await runScript(join(tree, "scripts/sample.sh"), env, 65534);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? "", /^note: not root/);
    }
    const graph = join(tree, ".tmp/sample-store/graph");
    const layerDirs = await readdir(join(graph, "vfs/dir"));
    assert.equal(layerDirs.length, 3);
    for (const d of layerDirs) assert.equal((await lstat(join(graph, "vfs/dir", d, "etc/passwd"))).uid, 65534);
  });
});
