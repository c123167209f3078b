// The engine on an image made by buildah, its output checked by skopeo and umoci.
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { copyImage } from "../../src/copy/index.js";
import { digestHex, sha256 } from "../../src/digest.js";
import type { ImageManifest } from "../../src/manifest/manifest-types.js";
import { DOCKER_LAYER_TAR, DOCKER_MANIFEST, OCI_LAYER_ZSTD } from "../../src/manifest/media-types.js";
import { run, tempDir } from "../helpers/tools.js";
import { BuildahStore } from "./buildah-store.js";
import { DirLayoutReference, OciLayoutReference } from "./oci-layout-ends.js";

describe("copyImage on a buildah-made image", () => {
  let tmp: { path: string; cleanup: () => Promise<void> };
  let layout: string;

  before(async () => {
    tmp = await tempDir();
    const store = new BuildahStore(join(tmp.path, "store"));
    await store.makeImage("localhost/real", { files: { "hello.txt": "hello from buildah\n", "etc/motd": "motd\n" }, labels: { k: "v" } });
    layout = join(tmp.path, "oci");
    await store.push("localhost/real", `oci:${layout}:latest`);
  });

  after(async () => {
    await tmp.cleanup();
  });

  it("converts to Docker v2s2 with uncompressed layers that skopeo copies and umoci unpacks", async () => {
    const out = join(tmp.path, "v2s2");
    const result = await copyImage(new OciLayoutReference(layout), new DirLayoutReference(out), { format: "v2s2", decompress: true });
    const m = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as ImageManifest;
    assert.equal(m.mediaType, DOCKER_MANIFEST);
    assert.equal(result.manifestDigest, sha256(await readFile(join(out, "manifest.json"))));
    assert.deepEqual(m.layers.map((l) => l.mediaType), [DOCKER_LAYER_TAR]);
    const raw = JSON.parse((await run("skopeo", ["inspect", "--raw", `dir:${out}`])).stdout) as ImageManifest;
    assert.deepEqual(raw, m);
    const config = JSON.parse(await readFile(join(out, digestHex(m.config.digest)), "utf8")) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(config.rootfs.diff_ids, [m.layers[0]!.digest], "an uncompressed layer's digest is its DiffID");

    const check = join(tmp.path, "check");
    await run("skopeo", ["copy", "-q", `dir:${out}`, `oci:${check}:latest`]);
    const bundle = join(tmp.path, "bundle");
    await run("umoci", ["unpack", "--rootless", "--image", `${check}:latest`, bundle]);
    assert.equal(await readFile(join(bundle, "rootfs", "hello.txt"), "utf8"), "hello from buildah\n");
  });

  it("recompresses to zstd; skopeo copies the result back to an OCI layout", async () => {
    const out = join(tmp.path, "zstd");
    await copyImage(new OciLayoutReference(layout), new DirLayoutReference(out), { compress: true, compressionFormat: "zstd" });
    const m = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as ImageManifest;
    assert.deepEqual(m.layers.map((l) => l.mediaType), [OCI_LAYER_ZSTD]);
    const layer = join(out, digestHex(m.layers[0]!.digest));
    const listing = (await run("sh", ["-c", `zstd -dc '${layer}' | tar -t`])).stdout.split("\n").filter(Boolean);
    assert.ok(listing.includes("hello.txt"), listing.join(","));
    await run("skopeo", ["copy", "-q", `dir:${out}`, `oci:${join(tmp.path, "zcheck")}:latest`]);
    const blobs = await readdir(join(tmp.path, "zcheck", "blobs", "sha256"));
    assert.ok(blobs.includes(digestHex(m.layers[0]!.digest)), "skopeo kept the zstd layer as written");
  });
});
