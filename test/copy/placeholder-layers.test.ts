import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { copyImage } from "../../src/copy/index.js";
import { sha256 } from "../../src/digest.js";
import { UnsupportedError } from "../../src/errors.js";
import type { ImageManifest } from "../../src/manifest/manifest-types.js";
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_MANIFEST } from "../../src/manifest/media-types.js";
import type { BlobInfo, ProgressEvent } from "../../src/types.js";
import { MemoryImage, MemoryReference, type DestinationBehaviour } from "./memory-transport.js";
import { compressBytes, parseJson, tarOf } from "./test-images.js";

/**
 * A source like a container's export: a real base layer, then two layers whose digests are only
 * placeholders (in the manifest and the config's diff_ids) until the engine streams them.
 */
async function containerLikeSource() {
  const image = new MemoryImage();
  const base = await tarOf({ "etc/base": "base\n".repeat(300) });
  const baseBlob = compressBytes(base, "gzip");
  const rw = [await tarOf({ "app/one": "one\n".repeat(400) }), await tarOf({ "app/two": "two\n".repeat(50) })];
  const placeholders = rw.map((_, i) => sha256(`placeholder ${i}`));
  image.blobs.set(sha256(baseBlob), baseBlob);
  rw.forEach((tar, i) => image.blobs.set(placeholders[i]!, tar));
  const config = {
    architecture: "amd64",
    os: "linux",
    config: { Env: ["A=b"] },
    rootfs: { type: "layers", diff_ids: [sha256(base), ...placeholders] },
    history: [{ created_by: "base" }, { created_by: "one" }, { created_by: "two" }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  image.blobs.set(sha256(configBytes), configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256(configBytes), size: configBytes.length },
    layers: [
      { mediaType: OCI_LAYER_GZIP, digest: sha256(baseBlob), size: baseBlob.length },
      ...placeholders.map((digest) => ({ mediaType: OCI_LAYER_TAR, digest, size: 0 })),
    ],
  };
  image.manifests.set("", { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: OCI_MANIFEST });
  const infos: BlobInfo[] = [
    { ...manifest.layers[0]! },
    ...placeholders.map((digest) => ({ digest, size: -1, mediaType: OCI_LAYER_TAR, placeholder: true })),
  ];
  const src = new MemoryReference("container", image, { layerInfosForCopy: () => infos });
  return { src, base, baseBlob, rw, placeholders, config };
}

function copyTo(dest: DestinationBehaviour = {}): MemoryReference {
  return new MemoryReference("dest", new MemoryImage(), {}, dest);
}

describe("copyImage from a source with placeholder layers", () => {
  it("streams each placeholder layer once and writes a consistent config and manifest", async () => {
    const { src, base, baseBlob, rw, placeholders } = await containerLikeSource();
    const dest = copyTo();
    const events: ProgressEvent[] = [];
    const result = await copyImage(src, dest, { onProgress: (e) => events.push(e) });
    const m = parseJson(result.manifest) as unknown as ImageManifest;
    assert.deepEqual(
      m.layers.map((l) => [l.mediaType, l.digest, l.size]),
      [[OCI_LAYER_GZIP, sha256(baseBlob), baseBlob.length], ...rw.map((t) => [OCI_LAYER_TAR, sha256(t), t.length])],
    );
    const configBytes = dest.image.blobs.get(m.config.digest)!;
    assert.equal(sha256(configBytes), m.config.digest);
    assert.equal(configBytes.length, m.config.size);
    const config = parseJson(configBytes) as { rootfs: { diff_ids: string[] }; config: unknown; history: unknown[] };
    assert.deepEqual(config.rootfs.diff_ids, [sha256(base), ...rw.map((t) => sha256(t))]);
    assert.deepEqual(config.config, { Env: ["A=b"] }, "the rest of the config is kept");
    assert.equal(config.history.length, 3);
    assert.equal(result.manifestDigest, sha256(result.manifest));
    for (const l of m.layers) assert.ok(dest.image.blobs.has(l.digest), `blob ${l.digest} stored`);
    const puts = dest.log.putBlobs.filter((p) => placeholders.includes(p.info.digest));
    assert.equal(puts.length, 2, "each placeholder layer is streamed once");
    assert.ok(puts.every((p) => p.info.placeholder === true && p.info.size === -1));
    const done = events.filter((e) => e.state === "done" && placeholders.includes(e.digest ?? ""));
    assert.deepEqual(done.map((e) => e.storedDigest).sort(), rw.map((t) => sha256(t)).sort());
    assert.equal(dest.log.reuseQueries.filter((q) => placeholders.includes(q.digest)).length, 0, "placeholders are never looked up");
  });

  it("computes DiffIDs of the uncompressed content when the destination compresses", async () => {
    const { src, rw } = await containerLikeSource();
    const dest = copyTo({ desiredLayerCompression: "compress" });
    const result = await copyImage(src, dest);
    const m = parseJson(result.manifest) as unknown as ImageManifest;
    assert.deepEqual(m.layers.map((l) => l.mediaType), [OCI_LAYER_GZIP, OCI_LAYER_GZIP, OCI_LAYER_GZIP]);
    const config = parseJson(dest.image.blobs.get(m.config.digest)!) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(config.rootfs.diff_ids.slice(1), rw.map((t) => sha256(t)));
    m.layers.slice(1).forEach((l, i) => assert.deepEqual(gunzipSync(dest.image.blobs.get(l.digest)!), rw[i]));
  });

  it("refuses --preserve-digests, as the digests can only change", async () => {
    const { src } = await containerLikeSource();
    const dest = copyTo();
    await assert.rejects(copyImage(src, dest, { preserveDigests: true }), (err: Error) => err instanceof UnsupportedError && /preserve-digests/.test(err.message));
    assert.equal(dest.log.putBlobs.length, 0);
    assert.equal(dest.log.committed, false);
  });
});
