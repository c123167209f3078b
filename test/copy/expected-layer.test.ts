// The engine's side of BlobInfo.expectedUncompressed: a placeholder layer whose DiffID the source
// expects is taken from the destination when it holds that blob, else made from its bytes (a wrong
// expectation never reaches the image), and the DiffIDs made go back through placeholderCopied.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { copyImage } from "../../src/copy/index.js";
import { sha256 } from "../../src/digest.js";
import type { ImageManifest } from "../../src/manifest/manifest-types.js";
import { OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST } from "../../src/manifest/media-types.js";
import type { BlobInfo, Digest, ImageSource } from "../../src/types.js";
import { MemoryImage, MemoryReference } from "./memory-transport.js";
import { parseJson, tarOf } from "./test-images.js";

interface Reported {
  placeholder: Digest;
  layer: { diffId: Digest; size: number };
}

/** A memory source whose placeholder layers say what the test wants them to expect, and that records placeholderCopied. */
class ExpectingReference extends MemoryReference {
  readonly reported: Reported[] = [];

  override async newImageSource(): Promise<ImageSource> {
    const source = await super.newImageSource();
    return Object.assign(source, {
      placeholderCopied: async (info: BlobInfo, layer: { diffId: Digest; size: number }): Promise<void> => {
        this.reported.push({ placeholder: info.digest, layer });
      },
    });
  }
}

/** One placeholder layer (a plain tar) that expects `expected`. */
async function source(expected: (tar: Buffer) => { digest: Digest; size: number } | undefined) {
  const image = new MemoryImage();
  const tar = await tarOf({ "app/file": "content\n".repeat(100) });
  const placeholder = sha256("placeholder 0");
  image.blobs.set(placeholder, tar);
  const configBytes = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [placeholder] } }));
  image.blobs.set(sha256(configBytes), configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256(configBytes), size: configBytes.length },
    layers: [{ mediaType: OCI_LAYER_TAR, digest: placeholder, size: 0 }],
  };
  image.manifests.set("", { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: OCI_MANIFEST });
  const info: BlobInfo = { digest: placeholder, size: -1, mediaType: OCI_LAYER_TAR, compression: "none", placeholder: true };
  const e = expected(tar);
  if (e) info.expectedUncompressed = e;
  return { src: new ExpectingReference("container", image, { layerInfosForCopy: () => [{ ...info }] }), tar, placeholder };
}

/** A destination that already holds `blobs`. */
function destHolding(blobs: Buffer[]): MemoryReference {
  const image = new MemoryImage();
  for (const b of blobs) image.blobs.set(sha256(b), b);
  return new MemoryReference("dest", image);
}

function diffIdsOf(dest: MemoryReference, manifest: Uint8Array): string[] {
  const m = parseJson(manifest) as unknown as ImageManifest;
  return (parseJson(dest.image.blobs.get(m.config.digest)!) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
}

describe("copyImage and a placeholder's expected DiffID", () => {
  it("takes the blob the destination holds for the expected DiffID, without reading the layer", async () => {
    const { src, tar, placeholder } = await source((t) => ({ digest: sha256(t), size: t.length }));
    const dest = destHolding([tar]);
    const result = await copyImage(src, dest);
    assert.equal(dest.log.putBlobs.filter((p) => !p.isConfig).length, 0, "the layer was not streamed");
    assert.deepEqual(diffIdsOf(dest, result.manifest), [sha256(tar)]);
    assert.deepEqual((parseJson(result.manifest) as unknown as ImageManifest).layers.map((l) => l.digest), [sha256(tar)]);
    assert.deepEqual(src.reported, [], "nothing was made, so nothing to report");
    assert.ok(dest.log.reuseQueries.some((q) => q.digest === sha256(tar) && !q.placeholder));
    assert.ok(!dest.log.reuseQueries.some((q) => q.digest === placeholder));
  });

  it("a wrong expectation the destination cannot meet: the layer is made from its bytes and its real DiffID reported", async () => {
    const other = await tarOf({ "other/file": "other\n" });
    const { src, tar, placeholder } = await source(() => ({ digest: sha256(Buffer.from("not this layer")), size: 14 }));
    const dest = destHolding([other]);
    const result = await copyImage(src, dest);
    assert.deepEqual(diffIdsOf(dest, result.manifest), [sha256(tar)], "the DiffID comes from the bytes");
    assert.deepEqual(src.reported, [{ placeholder, layer: { diffId: sha256(tar), size: tar.length } }]);
  });

  it("--verify-diffids and blobInfoCache: false make the layer even when the destination holds it", async () => {
    for (const options of [{ verifyDiffIds: true }, { blobInfoCache: false }]) {
      const { src, tar, placeholder } = await source((t) => ({ digest: sha256(t), size: t.length }));
      const dest = destHolding([tar]);
      const result = await copyImage(src, dest, options);
      assert.equal(dest.log.putBlobs.filter((p) => !p.isConfig).length, 1, JSON.stringify(options));
      assert.deepEqual(diffIdsOf(dest, result.manifest), [sha256(tar)]);
      // Only with the caches on does the source hear about what was made.
      assert.deepEqual(src.reported, options.blobInfoCache === false ? [] : [{ placeholder, layer: { diffId: sha256(tar), size: tar.length } }]);
    }
  });
});
