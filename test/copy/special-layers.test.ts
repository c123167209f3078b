import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { copyImage } from "../../src/copy/index.js";
import { sha256 } from "../../src/digest.js";
import type { ImageManifest } from "../../src/manifest/manifest-types.js";
import { DOCKER_FOREIGN_LAYER_GZIP, DOCKER_MANIFEST, OCI_LAYER_GZIP, OCI_LAYER_NONDIST_GZIP } from "../../src/manifest/media-types.js";
import { MemoryImage, MemoryReference } from "./memory-transport.js";
import { addImage, parseJson, tarOf } from "./test-images.js";

/** An image whose second layer is non-distributable, its content at a URL and possibly not in the source. */
async function withForeignLayer(present: boolean) {
  const image = new MemoryImage();
  const tars = [await tarOf({ a: "a\n" }), await tarOf({ "windows/base": "big\n".repeat(100) })];
  const built = addImage(image, { layers: tars.map((tar) => ({ tar, compression: "gzip" as const })) });
  const foreign = built.manifest.layers[1]!;
  if (!present) image.blobs.delete(foreign.digest);
  const manifest: ImageManifest = {
    ...built.manifest,
    layers: [built.manifest.layers[0]!, { ...foreign, mediaType: OCI_LAYER_NONDIST_GZIP, urls: ["https://example.com/base.tar.gz"] }],
  };
  image.manifests.set("", { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: built.mediaType });
  return { src: new MemoryReference("src", image), foreign, tars };
}

describe("copyImage with special layers", () => {
  it("copies a zero-byte layer and an empty tar, compressing both consistently", async () => {
    const image = new MemoryImage();
    const emptyTar = await tarOf({});
    addImage(image, { layers: [{ tar: Buffer.alloc(0), compression: "none" }, { tar: emptyTar, compression: "none" }] });
    const dest = new MemoryReference("dest", new MemoryImage(), {}, { desiredLayerCompression: "compress" });
    const result = await copyImage(new MemoryReference("src", image), dest);
    const m = parseJson(result.manifest) as unknown as ImageManifest;
    assert.deepEqual(m.layers.map((l) => l.mediaType), [OCI_LAYER_GZIP, OCI_LAYER_GZIP]);
    assert.deepEqual(gunzipSync(dest.image.blobs.get(m.layers[0]!.digest)!), Buffer.alloc(0));
    assert.deepEqual(gunzipSync(dest.image.blobs.get(m.layers[1]!.digest)!), emptyTar);
    const config = parseJson(dest.image.blobs.get(m.config.digest)!) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(config.rootfs.diff_ids, [sha256(""), sha256(emptyTar)]);
  });

  it("keeps a non-distributable layer the source does not hold as a URL reference, with a warning", async () => {
    const { src, foreign } = await withForeignLayer(false);
    const dest = new MemoryReference("dest");
    const warnings: string[] = [];
    const result = await copyImage(src, dest, { destCtx: { warn: (w) => warnings.push(w) } });
    const m = parseJson(result.manifest) as unknown as ImageManifest;
    assert.deepEqual(m.layers[1], { ...foreign, mediaType: OCI_LAYER_NONDIST_GZIP, urls: ["https://example.com/base.tar.gz"] });
    assert.ok(!dest.image.blobs.has(foreign.digest));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`layer ${foreign.digest} of mem:src: a non-distributable layer .* https://example.com/base.tar.gz`));
  });

  it("copies a non-distributable layer the source holds, and maps it to Docker's foreign type", async () => {
    const { src, foreign, tars } = await withForeignLayer(true);
    const dest = new MemoryReference("dest", new MemoryImage(), {}, { supportedManifestTypes: [DOCKER_MANIFEST] });
    const result = await copyImage(src, dest);
    const m = parseJson(result.manifest) as unknown as ImageManifest;
    assert.equal(m.layers[1]!.mediaType, DOCKER_FOREIGN_LAYER_GZIP);
    assert.deepEqual(m.layers[1]!.urls, ["https://example.com/base.tar.gz"]);
    assert.deepEqual(gunzipSync(dest.image.blobs.get(foreign.digest)!), tars[1]);
  });
});
