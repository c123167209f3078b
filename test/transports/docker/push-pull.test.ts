// docker:// source and destination against a real registry: an index with --all (instances before the
// index), a push by digest, tags listed page by page through Link, cross-repository mounts, and
// close() without commit leaving no tag.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { copyImage } from "../../../src/copy/index.js";
import { sha256 } from "../../../src/digest.js";
import { isImgcopyError } from "../../../src/errors.js";
import { parseDockerReference } from "../../../transports/docker/reference.js";
import { listRepositoryTags, nextPage } from "../../../transports/docker/tags-list.js";
import { MemoryImage, MemoryReference } from "../../copy/memory-transport.js";
import { addImage, addIndex, tarOf } from "../../copy/test-images.js";
import { startFaultProxy } from "../../helpers/fault-proxy.js";
import { run } from "../../helpers/tools.js";
import { registryWithImage, type PushedImage } from "./registry-fixture.js";

const dockerRef = (text: string) => parseDockerReference(text.slice("docker:".length));

async function skopeoRaw(ref: string): Promise<Buffer> {
  const { stdout } = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", ref]);
  return Buffer.from(stdout, "utf8");
}

describe("docker:// push and pull", () => {
  let fixture: PushedImage;
  before(async () => {
    fixture = await registryWithImage(64 * 1024, "base/img:1");
  });
  after(async () => {
    await fixture?.cleanup();
  });

  it("pushes an index with --all (instances first, by digest) and pulls every instance back", async () => {
    const image = new MemoryImage();
    const amd = addImage(image, { layers: [{ tar: await tarOf({ a: "amd64" }), compression: "gzip" }], top: false });
    const arm = addImage(image, { layers: [{ tar: await tarOf({ a: "arm64" }), compression: "gzip" }], architecture: "arm64", top: false });
    const index = addIndex(image, [
      { built: amd, platform: { architecture: "amd64", os: "linux" } },
      { built: arm, platform: { architecture: "arm64", os: "linux" } },
    ]);
    const ref = `docker://${fixture.registry.host}/multi/img:1`;
    const pushed = await copyImage(new MemoryReference("idx", image), dockerRef(ref), { all: true, destCtx: fixture.ctx });
    assert.equal(pushed.manifestDigest, index.digest);
    assert.equal(sha256(await skopeoRaw(ref)), index.digest, "the registry serves the index byte for byte");
    assert.equal(sha256(await skopeoRaw(`docker://${fixture.registry.host}/multi/img@${arm.digest}`)), arm.digest);

    const back = new MemoryReference("back");
    const pulled = await copyImage(dockerRef(ref), back, { all: true, sourceCtx: fixture.ctx });
    assert.equal(pulled.manifestDigest, index.digest);
    assert.deepEqual(back.log.manifests.map((m) => m.instance ?? "index"), [amd.digest, arm.digest, "index"], "instances, then the index");
  });

  it("pushes by digest when the reference names one, and refuses a manifest that does not match it", async () => {
    const digest = fixture.built.digest;
    const byDigest = `docker://${fixture.registry.host}/bydigest/img@${digest}`;
    await copyImage(dockerRef(fixture.ref), dockerRef(byDigest), { sourceCtx: fixture.ctx, destCtx: fixture.ctx });
    assert.equal(sha256(await skopeoRaw(byDigest)), digest);
    const listed = await listRepositoryTags(`//${fixture.registry.host}/bydigest/img`, fixture.ctx).catch((err: unknown) => err);
    assert.ok(isImgcopyError(listed) || (listed as { Tags: string[] }).Tags.length === 0, "no tag was made");

    const wrong = `docker://${fixture.registry.host}/bydigest/other@sha256:${"0".repeat(64)}`;
    await assert.rejects(copyImage(dockerRef(fixture.ref), dockerRef(wrong), { sourceCtx: fixture.ctx, destCtx: fixture.ctx }), /digest mismatch/);
  });

  it("lists every tag of a repository", async () => {
    const tags = ["a", "b", "c", "d", "e", "f", "g"];
    for (const t of tags) {
      await copyImage(dockerRef(fixture.ref), dockerRef(`docker://${fixture.registry.host}/paged/img:${t}`), { sourceCtx: fixture.ctx, destCtx: fixture.ctx });
    }
    // distribution 2.8 answers the whole list whatever n says (it has no pagination): the pages come from nextPage below.
    const listed = await listRepositoryTags(`//${fixture.registry.host}/paged/img`, fixture.ctx, 3);
    assert.equal(listed.Repository, `${fixture.registry.host}/paged/img`);
    assert.deepEqual([...listed.Tags].sort(), tags);
  });

  it("follows the Link header's next page (relative or absolute), and stops without one", () => {
    const current = new URL("http://127.0.0.1:5000/v2/r/tags/list?n=3");
    assert.equal(nextPage('</v2/r/tags/list?n=3&last=c>; rel="next"', current)?.href, "http://127.0.0.1:5000/v2/r/tags/list?n=3&last=c");
    assert.equal(nextPage(['<https://other.example/v2/r/tags/list?last=f>; rel=next'], current)?.href, "https://other.example/v2/r/tags/list?last=f");
    assert.equal(nextPage('</x>; rel="prev", </v2/r/tags/list?last=z>; rel="next"', current)?.pathname, "/v2/r/tags/list");
    assert.equal(nextPage(undefined, current), undefined);
    assert.equal(nextPage('</x>; rel="prev"', current), undefined);
  });

  it("mounts blobs from another repository of the same registry instead of uploading them", async () => {
    const proxy = await startFaultProxy({ port: fixture.registry.port });
    try {
      const dest = `docker://${proxy.host}/mounted/img:1`;
      await copyImage(dockerRef(fixture.ref.replace(fixture.registry.host, proxy.host)), dockerRef(dest), { sourceCtx: fixture.ctx, destCtx: fixture.ctx });
      const mounts = proxy.seen.filter((r) => r.method === "POST" && r.path.includes("mount="));
      assert.equal(mounts.length, 2, `config and layer mounted: ${JSON.stringify(proxy.seen.map((r) => `${r.method} ${r.path}`))}`);
      assert.equal(proxy.seen.filter((r) => r.method === "PATCH").length, 0, "nothing uploaded");
      assert.equal(sha256(await skopeoRaw(`docker://${fixture.registry.host}/mounted/img:1`)), fixture.built.digest);
    } finally {
      await proxy.stop();
    }
  });

  it("tags nothing when the destination is closed without commit", async () => {
    const ref = dockerRef(`docker://${fixture.registry.host}/abandoned/img:1`);
    const dest = await ref.newImageDestination(fixture.ctx);
    const layer = Buffer.from("abandoned layer");
    await dest.putBlob(Readable.from([layer]), { digest: sha256(layer), size: layer.length }, { isConfig: false });
    await dest.putManifest(Buffer.from("{}"), "application/vnd.oci.image.manifest.v1+json");
    await dest.close();
    await assert.rejects(run("skopeo", ["inspect", "--tls-verify=false", `docker://${fixture.registry.host}/abandoned/img:1`]));
  });
});
