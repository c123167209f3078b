// Pushing the same plain layers again (re-push, or to another repository of the registry) takes the
// compressed blobs the blob-info cache remembers, once the registry has them and they check out: no
// upload, the same image. A lying or garbage cache must still give a correct image.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { BlobInfoCache, cacheDir } from "../../../src/blob-info-cache.js";
import { copyImage } from "../../../src/copy/index.js";
import { sha256 } from "../../../src/digest.js";
import type { SystemContext } from "../../../src/types.js";
import { parseDockerReference } from "../../../transports/docker/reference.js";
import { MemoryImage, MemoryReference } from "../../copy/memory-transport.js";
import { addImage, tarOf, type BuiltImage } from "../../copy/test-images.js";
import { startFaultProxy, type FaultProxy } from "../../helpers/fault-proxy.js";
import { startRegistry, type RegistryServer } from "../../helpers/registry-server.js";
import { run, tempDir } from "../../helpers/tools.js";
import { plainHttpContext } from "./registry-fixture.js";

const dockerRef = (text: string) => parseDockerReference(text.slice("docker:".length));

/** An image of two plain (uncompressed) layers, half random and half repetitive, so the engine compresses them for a registry. */
async function plainImage(seed: string): Promise<{ image: MemoryImage; built: BuiltImage }> {
  const image = new MemoryImage();
  const layer = async (name: string) => tarOf({ [name]: randomBytes(96 * 1024).toString("latin1") + `${seed} `.repeat(20_000) });
  const built = addImage(image, { layers: [{ tar: await layer(`a-${seed}`), compression: "none" }, { tar: await layer(`b-${seed}`), compression: "none" }] });
  return { image, built };
}

interface PulledImage {
  manifestDigest: string;
  layers: { digest: string; uncompressed: string }[];
  diffIds: string[];
}

/** skopeo pulls `ref` into an OCI layout; each layer is decompressed and hashed here. */
async function pullWithSkopeo(ref: string, dir: string): Promise<PulledImage> {
  await run("skopeo", ["copy", "-q", "--src-tls-verify=false", ref, `oci:${dir}:x`]);
  const blob = (digest: string): Promise<Buffer> => readFile(join(dir, "blobs", "sha256", digest.slice("sha256:".length)));
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const manifestDigest = index.manifests[0]!.digest;
  const manifest = JSON.parse((await blob(manifestDigest)).toString()) as { config: { digest: string }; layers: { digest: string }[] };
  const config = JSON.parse((await blob(manifest.config.digest)).toString()) as { rootfs: { diff_ids: string[] } };
  const layers = [];
  for (const l of manifest.layers) layers.push({ digest: l.digest, uncompressed: sha256(gunzipSync(await blob(l.digest))) });
  return { manifestDigest, layers, diffIds: config.rootfs.diff_ids };
}

describe("docker:// push reuses compressed layers the blob-info cache remembers", () => {
  let registry: RegistryServer;
  let proxy: FaultProxy;
  let work: { path: string; cleanup: () => Promise<void> };
  let ctx: SystemContext;
  const uploads = (): string[] => proxy.seen.filter((r) => r.path.includes("/blobs/uploads/") && !r.path.includes("mount=")).map((r) => `${r.method} ${r.path}`);
  const mounts = (): string[] => proxy.seen.filter((r) => r.method === "POST" && r.path.includes("mount=")).map((r) => r.path);
  const push = async (src: MemoryImage, ref: string) => {
    proxy.seen.length = 0;
    return copyImage(new MemoryReference("src", src), dockerRef(ref), { destCtx: ctx });
  };

  before(async () => {
    work = await tempDir("imgcopy-repush-");
    registry = await startRegistry();
    proxy = await startFaultProxy({ port: registry.port });
    ctx = plainHttpContext(work.path, { env: { PATH: process.env.PATH, HOME: work.path, XDG_CACHE_HOME: join(work.path, "cache") } });
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
    await work?.cleanup();
  });

  it("a second push uploads no layer, and skopeo pulls the same image", async () => {
    const { image, built } = await plainImage("same");
    const ref = `docker://${proxy.host}/team/app:1`;
    const first = await push(image, ref);
    assert.equal(uploads().filter((u) => u.startsWith("PATCH")).length, 3, "first push: two layers and the config uploaded");
    const pulledFirst = await pullWithSkopeo(ref, join(work.path, "first"));

    const second = await push(image, ref);
    assert.deepEqual(uploads(), [], "second push: nothing uploaded");
    assert.equal(second.manifestDigest, first.manifestDigest);
    const pulledSecond = await pullWithSkopeo(ref, join(work.path, "second"));
    assert.deepEqual(pulledSecond, pulledFirst);
    assert.deepEqual(pulledSecond.layers.map((l) => l.uncompressed), built.diffIds, "each layer holds its DiffID");
  });

  it("a push to another repository of the registry mounts the checked blobs instead of compressing and uploading", async () => {
    const { image, built } = await plainImage("mounted");
    const first = await push(image, `docker://${proxy.host}/team/base:1`);
    const ref = `docker://${proxy.host}/team/derived:1`;
    const second = await push(image, ref);
    // The engine's cache remembers layers only: the small config is uploaded again.
    assert.equal(uploads().filter((u) => u.startsWith("PATCH")).length, 1, `only the config uploaded: ${JSON.stringify(uploads())}`);
    assert.equal(mounts().filter((m) => m.includes("from=team%2Fbase")).length, 2, `both layers mounted: ${JSON.stringify(mounts())}`);
    assert.equal(second.manifestDigest, first.manifestDigest);
    const pulled = await pullWithSkopeo(ref, join(work.path, "derived"));
    assert.deepEqual(pulled.layers.map((l) => l.uncompressed), built.diffIds);
  });

  it("a lying or garbage cache still gives a correct image: an entry whose blob holds other content is not used, and is forgotten", async () => {
    const a = await plainImage("liar-a");
    const b = await plainImage("liar-b");
    const repo = `${proxy.host}/team/liar`;
    await push(a.image, `docker://${repo}:a`);
    const manifestA = JSON.parse((await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${repo}:a`])).stdout) as { layers: { digest: string; size: number }[] };
    await push(a.image, `docker://${proxy.host}/team/nearby:a`); // the nearby repository holds A's blobs too
    // The cache now says B's layers are A's blobs (present in the repository, right size, gzip), plus
    // garbage: a blob that is not there, a wrong size, and the same lie in a nearby repository.
    const env = ctx.env!;
    const cache = await BlobInfoCache.open(env, () => undefined);
    const here = `docker://${repo}`;
    b.built.diffIds.forEach((diffId, i) => {
      const lie = manifestA.layers[i]!;
      cache.record(`docker://${proxy.host}/team/nearby`, diffId, { digest: lie.digest, size: lie.size, algorithm: "gzip" });
      cache.record(here, diffId, { digest: sha256(`missing ${i}`), size: 10, algorithm: "gzip" });
      cache.record(here, diffId, { digest: lie.digest, size: lie.size + 1, algorithm: "gzip" });
      cache.record(here, diffId, { digest: lie.digest, size: lie.size, algorithm: "gzip" });
    });
    await cache.save();

    const ref = `docker://${repo}:b`;
    await push(b.image, ref);
    assert.equal(uploads().filter((u) => u.startsWith("PATCH")).length, 3, "B's layers compressed and uploaded (and its config)");
    assert.deepEqual(mounts(), [], "nothing mounted from the lying nearby entry");
    const pulled = await pullWithSkopeo(ref, join(work.path, "liar"));
    assert.deepEqual(pulled.layers.map((l) => l.uncompressed), b.built.diffIds, "every layer holds the DiffID the config names");
    assert.deepEqual(pulled.diffIds, b.built.diffIds);
    for (const l of manifestA.layers) assert.ok(!pulled.layers.some((p) => p.digest === l.digest), "no blob of A stands in for B's layers");

    const after = await BlobInfoCache.open(env, () => undefined);
    b.built.diffIds.forEach((diffId, i) => {
      const kept = after.candidates(here, diffId, "gzip").map((c) => c.digest);
      assert.deepEqual(kept, [pulled.layers[i]!.digest], "the lies are forgotten; the real blob is remembered");
    });
    assert.ok((await readFile(join(cacheDir(env), "blob-info-cache-v1.json"), "utf8")).length > 0);
  });

  it("a corrupt cache file is only a warning: the push compresses as usual", async () => {
    await writeFile(join(cacheDir(ctx.env!), "blob-info-cache-v1.json"), "{ not json");
    const { image, built } = await plainImage("corrupt");
    const warnings: string[] = [];
    const ref = `docker://${proxy.host}/team/corrupt:1`;
    await copyImage(new MemoryReference("src", image), dockerRef(ref), { destCtx: { ...ctx, warn: (m) => void warnings.push(m) } });
    assert.equal(warnings.filter((w) => /blob-info cache .* is corrupt/.test(w)).length, 1, warnings.join("\n"));
    const pulled = await pullWithSkopeo(ref, join(work.path, "corrupt"));
    assert.deepEqual(pulled.layers.map((l) => l.uncompressed), built.diffIds);
  });
});
