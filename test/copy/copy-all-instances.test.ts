import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { copyImage } from "../../src/copy/index.js";
import { sha256 } from "../../src/digest.js";
import { NotFoundError, UnsupportedError } from "../../src/errors.js";
import { goArch } from "../../src/manifest/choose-instance.js";
import type { ImageIndex, ImageManifest } from "../../src/manifest/manifest-types.js";
import { DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST } from "../../src/manifest/media-types.js";
import { MemoryImage, MemoryReference } from "./memory-transport.js";
import { addImage, addIndex, parseJson, tarOf, type BuiltImage } from "./test-images.js";

const here = goArch();
const other = here === "arm64" ? "amd64" : "arm64";

async function indexSource(compression: "gzip" | "none" = "gzip") {
  const image = new MemoryImage();
  const images: BuiltImage[] = [];
  for (const arch of [other, here]) {
    const tar = await tarOf({ [`bin/${arch}`]: `built for ${arch}\n`.repeat(200) });
    images.push(addImage(image, { layers: [{ tar, compression }], architecture: arch, top: false }));
  }
  const index = addIndex(image, images.map((built, i) => ({ built, platform: { architecture: i === 0 ? other : here, os: "linux" } })));
  return { src: new MemoryReference("multi", image), images, index };
}

describe("copyImage of an index", () => {
  it("without --all copies only the image for this platform", async () => {
    const { src, images } = await indexSource();
    const dest = new MemoryReference("dest");
    const result = await copyImage(src, dest);
    const mine = images[1]!;
    assert.equal(result.manifestDigest, mine.digest);
    assert.equal(result.mediaType, OCI_MANIFEST);
    assert.equal(dest.log.manifests.length, 1);
    assert.equal(dest.log.manifests[0]!.instance, undefined);
    assert.ok(!dest.log.putBlobs.some((p) => p.info.digest === images[0]!.manifest.layers[0]!.digest), "the other platform's layer is not copied");
  });

  it("--all writes every instance (with its digest) before the index, unchanged when nothing changes", async () => {
    const { src, images, index } = await indexSource();
    const dest = new MemoryReference("dest");
    const result = await copyImage(src, dest, { all: true });
    assert.equal(result.mediaType, OCI_INDEX);
    assert.equal(result.manifestDigest, index.digest);
    assert.deepEqual(Buffer.from(result.manifest), Buffer.from(index.bytes));
    assert.deepEqual(dest.log.manifests.map((m) => m.instance), [images[0]!.digest, images[1]!.digest, undefined]);
    assert.equal(dest.log.putBlobs.filter((p) => !p.isConfig).length, 2);
  });

  it("--all converts the index and every image for a Docker-only destination", async () => {
    const { src } = await indexSource();
    const dest = new MemoryReference("dest", new MemoryImage(), {}, { supportedManifestTypes: [DOCKER_MANIFEST, DOCKER_LIST] });
    const result = await copyImage(src, dest, { all: true });
    assert.equal(result.mediaType, DOCKER_LIST);
    const list = parseJson(result.manifest) as unknown as ImageIndex;
    assert.equal(list.mediaType, DOCKER_LIST);
    const instances = dest.log.manifests.filter((m) => m.instance);
    assert.equal(instances.length, 2);
    list.manifests.forEach((entry, i) => {
      const written = instances[i]!;
      assert.equal(entry.mediaType, DOCKER_MANIFEST);
      assert.equal(written.mediaType, DOCKER_MANIFEST);
      assert.equal(entry.digest, sha256(written.bytes));
      assert.equal(entry.size, written.bytes.length);
      assert.equal(written.instance, entry.digest);
      assert.equal(entry.platform?.architecture, i === 0 ? other : here);
    });
  });

  it("--all rewrites the index when images change (compression)", async () => {
    const { src, images } = await indexSource("none");
    const dest = new MemoryReference("dest", new MemoryImage(), {}, { desiredLayerCompression: "compress" });
    const result = await copyImage(src, dest, { all: true });
    const index = parseJson(result.manifest) as unknown as ImageIndex;
    assert.equal(index.manifests.length, 2);
    for (const [i, entry] of index.manifests.entries()) {
      assert.notEqual(entry.digest, images[i]!.digest);
      const m = parseJson(dest.image.manifests.get(entry.digest)!.bytes) as unknown as ImageManifest;
      assert.equal(m.layers[0]!.mediaType, OCI_LAYER_GZIP);
    }
  });

  it("--all is refused before writing when the destination cannot hold an index", async () => {
    const { src } = await indexSource();
    const dest = new MemoryReference("dest", new MemoryImage(), {}, { supportedManifestTypes: [DOCKER_MANIFEST] });
    await assert.rejects(copyImage(src, dest, { all: true }), (err: Error) => err instanceof UnsupportedError && /cannot store an image index/.test(err.message));
    assert.equal(dest.log.putBlobs.length, 0);
    assert.equal(dest.log.committed, false);
  });

  it("fails clearly when no image fits this platform", async () => {
    const image = new MemoryImage();
    const built = addImage(image, { layers: [{ tar: await tarOf({ a: "a" }), compression: "gzip" }], top: false });
    addIndex(image, [{ built, platform: { architecture: "s390x-nope", os: "plan9" } }]);
    const dest = new MemoryReference("dest");
    await assert.rejects(copyImage(new MemoryReference("multi", image), dest), (err: Error) => {
      assert.ok(err instanceof NotFoundError);
      assert.match(err.message, new RegExp(`no image for linux/${here}.*the index has: plan9/s390x-nope`));
      return true;
    });
  });
});
