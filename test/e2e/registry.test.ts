// End to end against the real docker-registry on 127.0.0.1: round trips with skopeo both ways (equal
// digests), a container pushed straight to the registry and unpacked by umoci, 8 concurrent pushes,
// a push killed with SIGKILL (no tag, the rerun completes), TMPDIR pointing nowhere, a read-only registry.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  buildBaseImage,
  buildChangedContainer,
  createStore,
  skopeoCopy,
  skopeoInspect,
  type BaseImage,
  type Store,
  type WorkingContainer,
} from "../helpers/buildah-store.js";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { startRegistry, type RegistryServer } from "../helpers/registry-server.js";
import { compareTrees, formatDifferences, unpackWithUmoci } from "../helpers/tree-compare.js";
import { run, tempDir } from "../helpers/tools.js";
import { cleanEnv, imgcopy, type CliResult } from "../cli/run-imgcopy.js";
import { SETTLE_MARGIN_NS } from "../../transports/container-storage-copy/layer-fingerprint.js";

const PLAIN = ["--src-tls-verify=false", "--dest-tls-verify=false"];

function assertOk(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (exit ${r.code}): ${r.stderr}`);
}

async function registryDigest(ref: string): Promise<string> {
  return (await skopeoInspect(ref, ["--tls-verify=false"])).Digest as string;
}

async function listTags(registry: RegistryServer, repo: string): Promise<CliResult> {
  return imgcopy(["list-tags", "--tls-verify=false", `docker://${registry.host}/${repo}`]);
}

describe("docker:// against docker-registry", () => {
  let store: Store;
  let base: BaseImage;
  let ctr: WorkingContainer;
  let registry: RegistryServer;
  let work: { path: string; cleanup: () => Promise<void> };
  let baseOci: string;

  before(async () => {
    work = await tempDir("imgcopy-e2e-registry-");
    registry = await startRegistry();
    store = await createStore("vfs");
    base = await buildBaseImage(store);
    ctr = await buildChangedContainer(store, base);
    baseOci = join(work.path, "base-oci");
    await skopeoCopy(store.containersStorageRef(base.name), `oci:${baseOci}:base`);
  });
  after(async () => {
    await store?.cleanup();
    await registry?.stop();
    await work?.cleanup();
  });

  it("pushes an image skopeo pulls back with the same digest, and pulls what skopeo pushed with its digest", async () => {
    const pushed = await imgcopy(["copy", "--quiet", ...PLAIN, `oci:${baseOci}:base`, `docker://${registry.host}/rt/ours:1`]);
    assertOk(pushed, "imgcopy push");
    const ourDigest = await registryDigest(`docker://${registry.host}/rt/ours:1`);
    const back = join(work.path, "skopeo-pulled");
    await skopeoCopy(`docker://${registry.host}/rt/ours:1`, `oci:${back}:x`, ["--src-tls-verify=false"]);
    assert.equal((await skopeoInspect(`oci:${back}:x`)).Digest, ourDigest, "skopeo pulls what we pushed, byte for byte");

    await skopeoCopy(`oci:${baseOci}:base`, `docker://${registry.host}/rt/theirs:1`, ["--dest-tls-verify=false"]);
    const theirDigest = await registryDigest(`docker://${registry.host}/rt/theirs:1`);
    const pulled = join(work.path, "ours-pulled");
    const r = await imgcopy(["copy", "--quiet", ...PLAIN, `docker://${registry.host}/rt/theirs:1`, `oci:${pulled}:y`]);
    assertOk(r, "imgcopy pull");
    assert.equal((await skopeoInspect(`oci:${pulled}:y`)).Digest, theirDigest);

    const inspected = await imgcopy(["inspect", "--tls-verify=false", `docker://${registry.host}/rt/theirs:1`]);
    assertOk(inspected, "imgcopy inspect");
    const summary = JSON.parse(inspected.stdout) as Record<string, unknown>;
    assert.equal(summary.Name, `${registry.host}/rt/theirs`);
    assert.equal(summary.Digest, theirDigest);
    assert.deepEqual(summary.RepoTags, ["1"]);
  });

  it("pushes a container straight into the registry: skopeo pulls it and umoci unpacks the container's tree", async () => {
    const ref = `docker://${registry.host}/ctr/web:1`;
    assertOk(await imgcopy(["copy", "--quiet", ...PLAIN, store.containerCopyRef(ctr.name), ref]), "container push");
    const pulled = join(work.path, "ctr-pulled");
    await skopeoCopy(ref, `oci:${pulled}:c`, ["--src-tls-verify=false"]);
    const rootfs = await unpackWithUmoci(pulled, "c", join(work.path, "ctr-unpacked"));
    const diffs = await compareTrees(ctr.mountPoint, rootfs, { ignoreRoot: true });
    assert.deepEqual(diffs, [], `the pushed image differs from the container:\n${formatDifferences(diffs)}`);
  });

  it("pushes an unchanged container again without compressing or uploading any layer (the blob-info and layer DiffID caches, each blob checked); only the config goes up", async () => {
    // Changes younger than the settle margin are not remembered by fingerprint: wait so that the container's own layer is.
    await sleep(Number(SETTLE_MARGIN_NS / 1_000_000n) + 600);
    const proxy = await startFaultProxy({ port: registry.port });
    try {
      const env = cleanEnv(join(work.path, "repush-home"), { XDG_CACHE_HOME: join(work.path, "repush-cache") });
      const ref = `docker://${proxy.host}/repush/web:1`;
      const layersOf = async (): Promise<string[]> => (await skopeoInspect(ref, ["--tls-verify=false"])).Layers as string[];
      const patches = (): number => proxy.seen.filter((r) => r.method === "PATCH").length;
      assertOk(await imgcopy(["copy", "--quiet", ...PLAIN, store.containerCopyRef(ctr.name), ref], { env }), "first push");
      assert.equal(patches(), 4, "first push: two base layers, the container's layer and the config");
      const first = await layersOf();
      proxy.seen.length = 0;
      assertOk(await imgcopy(["copy", "--quiet", ...PLAIN, store.containerCopyRef(ctr.name), ref], { env }), "second push");
      assert.equal(patches(), 1, `second push: only the new config (its created time changed): ${JSON.stringify(proxy.seen)}`);
      const second = await layersOf();
      assert.deepEqual(second, first, "the same layer blobs");
      const pulled = join(work.path, "repush-pulled");
      await skopeoCopy(`docker://${registry.host}/repush/web:1`, `oci:${pulled}:c`, ["--src-tls-verify=false"]);
      const rootfs = await unpackWithUmoci(pulled, "c", join(work.path, "repush-unpacked"));
      const diffs = await compareTrees(ctr.mountPoint, rootfs, { ignoreRoot: true });
      assert.deepEqual(diffs, [], `the pushed image differs from the container:\n${formatDifferences(diffs)}`);
    } finally {
      await proxy.stop();
    }
  });

  it("lands 8 concurrent pushes of one image to 8 tags", async () => {
    const tags = Array.from({ length: 8 }, (_, i) => `t${i}`);
    const results = await Promise.all(
      // docker-registry 2.8 now and then answers 500 when two uploads of one blob are committed at once;
      // --retry-times (podman's default is 3) restarts such a push, as a user pushing in parallel would ask.
      tags.map((t) => imgcopy(["copy", "--quiet", "--retry-times", "3", ...PLAIN, `oci:${baseOci}:base`, `docker://${registry.host}/many/img:${t}`])),
    );
    results.forEach((r, i) => assertOk(r, `push ${i}`));
    const listed = await listTags(registry, "many/img");
    assertOk(listed, "list-tags");
    const parsed = JSON.parse(listed.stdout) as { Repository: string; Tags: string[] };
    assert.equal(parsed.Repository, `${registry.host}/many/img`);
    assert.deepEqual([...parsed.Tags].sort(), tags, "every tag landed (the registry lists them in its own order)");
    const table = await imgcopy(["list", "--tls-verify=false", `docker://${registry.host}/many/img`]);
    assertOk(table, "list");
    for (const t of tags) assert.match(table.stdout, new RegExp(`${registry.host}/many/img:${t}\\b`));
    const digests = new Set(await Promise.all(tags.map((t) => registryDigest(`docker://${registry.host}/many/img:${t}`))));
    assert.equal(digests.size, 1);
  });

  it("leaves no tag when a push is killed with SIGKILL, and a rerun completes", async () => {
    const ref = `docker://${registry.host}/killed/ctr:1`;
    let killed = false;
    const r = await imgcopy(["copy", "--progress", "lines", ...PLAIN, store.containerCopyRef(ctr.name), ref], {
      env: cleanEnv("/nonexistent"),
      onStderr: (text, child) => {
        if (!killed && /Copying blob/.test(text)) {
          killed = true;
          child.kill("SIGKILL");
        }
      },
    });
    assert.equal(r.signal, "SIGKILL", `the push was killed mid-way: ${r.stderr}`);
    const listed = await listTags(registry, "killed/ctr");
    assert.notEqual(listed.code, 0, `no tag after the killed push: ${listed.stdout}`);
    assert.match(listed.stderr, /NAME_UNKNOWN|HTTP 404/);
    assertOk(await imgcopy(["copy", "--quiet", ...PLAIN, store.containerCopyRef(ctr.name), ref]), "rerun");
    assert.deepEqual((JSON.parse((await listTags(registry, "killed/ctr")).stdout) as { Tags: string[] }).Tags, ["1"]);
  });

  it("pushes with TMPDIR pointing at a directory that does not exist (nothing is spooled)", async () => {
    const env = cleanEnv("/nonexistent", { TMPDIR: join(work.path, "no", "such", "dir") });
    const r = await imgcopy(["copy", "--quiet", ...PLAIN, store.containerCopyRef(ctr.name), `docker://${registry.host}/notmp/ctr:1`], { env });
    assertOk(r, "push with TMPDIR nowhere");
    assert.ok((await registryDigest(`docker://${registry.host}/notmp/ctr:1`)).startsWith("sha256:"));
  });

  it("gives one clear line when the registry is read-only, and tags nothing", async () => {
    const readonly = await startRegistry({ readonly: true });
    try {
      const r = await imgcopy(["copy", "--quiet", ...PLAIN, `oci:${baseOci}:base`, `docker://${readonly.host}/ro/img:1`]);
      assert.notEqual(r.code, 0);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /docker:\/\/127\.0\.0\.1:\d+\/ro\/img:1.*HTTP 405.*read-only/);
      await assert.rejects(run("skopeo", ["inspect", "--tls-verify=false", `docker://${readonly.host}/ro/img:1`]));
    } finally {
      await readonly.stop();
    }
  });
});
