import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { decompress as zstdDecompress } from "zstd-napi";
import { copyImage } from "../../src/copy/index.js";
import { sha256 } from "../../src/digest.js";
import { UnsupportedError } from "../../src/errors.js";
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_LAYER_TAR,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_LAYER_GZIP,
  OCI_LAYER_TAR,
  OCI_LAYER_ZSTD,
  OCI_MANIFEST,
} from "../../src/manifest/media-types.js";
import type { ImageManifest } from "../../src/manifest/manifest-types.js";
import type { ProgressEvent } from "../../src/types.js";
import { MemoryImage, MemoryReference, type DestinationBehaviour } from "./memory-transport.js";
import { addImage, parseJson, tarOf, type Compression } from "./test-images.js";

async function sourceWith(layers: Compression[], format: "oci" | "docker" = "oci") {
  const image = new MemoryImage();
  const tars = await Promise.all(layers.map((_, i) => tarOf({ [`file${i}`]: `content of layer ${i}\n`.repeat(100 + i) })));
  const built = addImage(image, { format, layers: tars.map((tar, i) => ({ tar, compression: layers[i]! })) });
  return { src: new MemoryReference("src", image), built, tars };
}

function destWith(behaviour: DestinationBehaviour = {}): MemoryReference {
  return new MemoryReference("dest", new MemoryImage(), {}, behaviour);
}

function manifestOf(bytes: Uint8Array): ImageManifest {
  return parseJson(bytes) as unknown as ImageManifest;
}

describe("copyImage", () => {
  it("copies an image unchanged, byte for byte, and commits once", async () => {
    const { src, built } = await sourceWith(["gzip", "gzip"]);
    const dest = destWith();
    const events: ProgressEvent[] = [];
    const result = await copyImage(src, dest, { onProgress: (e) => events.push(e) });
    assert.deepEqual(Buffer.from(result.manifest), Buffer.from(built.bytes));
    assert.equal(result.manifestDigest, built.digest);
    assert.equal(result.mediaType, OCI_MANIFEST);
    assert.equal(dest.log.committed, true);
    assert.equal(dest.log.closed, 1);
    assert.equal(src.sourceClosed, 1);
    for (const [i, blob] of built.layerBlobs.entries()) {
      assert.deepEqual(dest.image.blobs.get(sha256(blob)), blob, `layer ${i} stored as is`);
      const put = dest.log.putBlobs.find((p) => p.info.digest === sha256(blob));
      assert.equal(put?.info.placeholder, undefined, "unchanged layers are put with their real digest");
      assert.equal(put?.info.size, blob.length);
    }
    const configPut = dest.log.putBlobs.filter((p) => p.isConfig);
    assert.equal(configPut.length, 1);
    assert.equal(configPut[0]!.info.digest, built.manifest.config.digest);
    const layerDone = events.filter((e) => e.kind === "blob" && e.state === "done").map((e) => e.digest);
    assert.deepEqual(layerDone.sort(), built.manifest.layers.map((l) => l.digest).sort());
    assert.ok(events.some((e) => e.kind === "config" && e.state === "done"));
    assert.deepEqual(events.filter((e) => e.kind === "manifest").map((e) => e.state), ["start", "done"]);
  });

  it("converts OCI to Docker v2s2 when the destination takes only Docker, keeping the layer blobs", async () => {
    const { src, built } = await sourceWith(["gzip", "none"]);
    const dest = destWith({ supportedManifestTypes: [DOCKER_MANIFEST] });
    const result = await copyImage(src, dest);
    assert.equal(result.mediaType, DOCKER_MANIFEST);
    const m = manifestOf(result.manifest);
    assert.equal(m.mediaType, DOCKER_MANIFEST);
    assert.equal(m.config.mediaType, DOCKER_CONFIG);
    assert.equal(m.config.digest, built.manifest.config.digest);
    assert.deepEqual(m.layers.map((l) => l.mediaType), [DOCKER_LAYER_GZIP, DOCKER_LAYER_TAR]);
    assert.deepEqual(m.layers.map((l) => l.digest), built.manifest.layers.map((l) => l.digest));
    assert.equal(dest.log.manifests[0]!.mediaType, DOCKER_MANIFEST);
  });

  it("converts Docker v2s2 to OCI with --format oci", async () => {
    const { src, built } = await sourceWith(["gzip", "none"], "docker");
    assert.equal(built.mediaType, DOCKER_MANIFEST);
    const dest = destWith();
    const result = await copyImage(src, dest, { format: "oci" });
    const m = manifestOf(result.manifest);
    assert.equal(result.mediaType, OCI_MANIFEST);
    assert.equal(m.config.mediaType, OCI_CONFIG);
    assert.deepEqual(m.layers.map((l) => l.mediaType), [OCI_LAYER_GZIP, OCI_LAYER_TAR]);
    assert.deepEqual(m.layers.map((l) => l.digest), built.manifest.layers.map((l) => l.digest));
  });

  it("compresses uncompressed layers with gzip when the destination asks, with a DiffID-consistent result", async () => {
    const { src, tars } = await sourceWith(["none", "gzip"]);
    const dest = destWith({ desiredLayerCompression: "compress" });
    const result = await copyImage(src, dest, { compressionLevel: 9 });
    const m = manifestOf(result.manifest);
    assert.deepEqual(m.layers.map((l) => l.mediaType), [OCI_LAYER_GZIP, OCI_LAYER_GZIP]);
    const stored = dest.image.blobs.get(m.layers[0]!.digest)!;
    assert.equal(stored.length, m.layers[0]!.size);
    assert.deepEqual(gunzipSync(stored), tars[0]);
    const put = dest.log.putBlobs.find((p) => !p.isConfig && p.info.mediaType === OCI_LAYER_GZIP && p.info.placeholder);
    assert.equal(put?.info.size, -1, "a changed layer is put as a placeholder");
    const config = parseJson(dest.image.blobs.get(m.config.digest)!) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(config.rootfs.diff_ids, tars.map((t) => sha256(t)));
  });

  it("decompresses gzip and zstd layers with decompress", async () => {
    const { src, tars } = await sourceWith(["gzip", "zstd"]);
    const dest = destWith();
    const result = await copyImage(src, dest, { decompress: true });
    const m = manifestOf(result.manifest);
    assert.deepEqual(m.layers.map((l) => l.mediaType), [OCI_LAYER_TAR, OCI_LAYER_TAR]);
    assert.deepEqual(m.layers.map((l) => l.digest), tars.map((t) => sha256(t)));
    assert.deepEqual(dest.image.blobs.get(m.layers[1]!.digest), tars[1]);
  });

  it("recompresses to zstd when --dest-compress-format zstd is given and layers are compressed", async () => {
    const { src, tars } = await sourceWith(["gzip", "none"]);
    const dest = destWith();
    const result = await copyImage(src, dest, { compress: true, compressionFormat: "zstd", compressionLevel: 5 });
    const m = manifestOf(result.manifest);
    assert.deepEqual(m.layers.map((l) => l.mediaType), [OCI_LAYER_ZSTD, OCI_LAYER_ZSTD]);
    m.layers.forEach((l, i) => assert.deepEqual(zstdDecompress(dest.image.blobs.get(l.digest)!), tars[i]));
  });

  it("keeps gzip layers when compressing without naming a format", async () => {
    const { src, built } = await sourceWith(["gzip"]);
    const dest = destWith();
    const result = await copyImage(src, dest, { compress: true });
    assert.deepEqual(Buffer.from(result.manifest), Buffer.from(built.bytes));
  });

  it("refuses bzip2 before opening the destination", async () => {
    const { src } = await sourceWith(["none"]);
    const dest = destWith();
    await assert.rejects(copyImage(src, dest, { compress: true, compressionFormat: "bzip2" }), (err: Error) => {
      assert.ok(err instanceof UnsupportedError);
      assert.match(err.message, /bzip2.*no image media type/);
      return true;
    });
    assert.equal(dest.log.putBlobs.length, 0);
    assert.equal(dest.log.closed, 0);
  });

  it("refuses a zstd layer in a Docker v2s2 manifest before writing anything", async () => {
    const { src } = await sourceWith(["zstd"]);
    const dest = destWith();
    await assert.rejects(copyImage(src, dest, { format: "v2s2" }), /Docker v2s2 manifest cannot describe a zstd-compressed layer/);
    assert.equal(dest.log.putBlobs.length, 0);
    assert.equal(dest.log.committed, false);
    assert.equal(dest.log.closed, 1);
  });

  it("skips layers the destination already has", async () => {
    const { src, built } = await sourceWith(["gzip", "gzip"]);
    const dest = destWith();
    const existing = built.layerBlobs[0]!;
    dest.image.blobs.set(sha256(existing), existing);
    const events: ProgressEvent[] = [];
    const result = await copyImage(src, dest, { onProgress: (e) => events.push(e) });
    assert.deepEqual(Buffer.from(result.manifest), Buffer.from(built.bytes));
    assert.ok(!dest.log.putBlobs.some((p) => p.info.digest === sha256(existing)), "the existing layer is not written again");
    assert.ok(events.some((e) => e.kind === "blob" && e.state === "skipped" && e.digest === sha256(existing)));
    assert.ok(events.some((e) => e.kind === "blob" && e.state === "done" && e.digest === sha256(built.layerBlobs[1]!)));
  });

  it("copies layers concurrently (at most `concurrency`) and keeps manifest order", async () => {
    const { src, built } = await sourceWith(["gzip", "gzip", "gzip", "gzip", "gzip"]);
    let waiting: Array<() => void> = [];
    let started = 0;
    // Each layer put waits until three are in flight (or all have started, or a second passes): a serial engine shows 1.
    const dest = destWith({
      beforePutBlob: async (info) => {
        if (info.mediaType === OCI_CONFIG) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
          started++;
          if (waiting.length >= 3 || started === built.layerBlobs.length) {
            waiting.forEach((r) => r());
            waiting = [];
          }
        });
      },
    });
    const result = await copyImage(src, dest, { concurrency: 3 });
    assert.equal(dest.log.maxConcurrentPutBlob, 3);
    assert.deepEqual(manifestOf(result.manifest).layers.map((l) => l.digest), built.manifest.layers.map((l) => l.digest));

    const serial = destWith({ threadSafe: false });
    await copyImage(src, serial, { concurrency: 3 });
    assert.equal(serial.log.maxConcurrentPutBlob, 1);
  });

  it("reports progress about every 256 KiB of a large layer", async () => {
    const image = new MemoryImage();
    const tar = randomBytes(1024 * 1024 + 5);
    const built = addImage(image, { layers: [{ tar, compression: "none" }] });
    const events: ProgressEvent[] = [];
    await copyImage(new MemoryReference("src", image), destWith(), { onProgress: (e) => events.push(e) });
    const layer = events.filter((e) => e.kind === "blob" && e.digest === built.manifest.layers[0]!.digest);
    assert.deepEqual(layer.map((e) => e.state), ["start", "progress", "progress", "progress", "progress", "done"]);
    const progress = layer.filter((e) => e.state === "progress").map((e) => e.bytes);
    progress.forEach((bytes, i) => assert.ok(bytes >= (i + 1) * 256 * 1024 && bytes < (i + 2) * 256 * 1024, `event ${i}: ${bytes}`));
    assert.deepEqual([layer.at(-1)!.bytes, layer.at(-1)!.total], [tar.length, tar.length]);
  });

  it("aborts on the signal: rejects with AbortedError and closes without commit", async () => {
    const { src } = await sourceWith(["gzip", "gzip"]);
    const controller = new AbortController();
    const dest = destWith({
      beforePutBlob: async () => {
        controller.abort();
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    await assert.rejects(copyImage(src, dest, { signal: controller.signal }), (err: Error & { code?: string }) => {
      assert.equal(err.code, "EABORT");
      assert.match(err.message, /copy of mem:src to mem:dest aborted/);
      return true;
    });
    assert.equal(dest.log.committed, false);
    assert.equal(dest.log.closed, 1);
    assert.equal(src.sourceClosed, 1);
    assert.equal(dest.image.blobs.size, 0);
  });

  it("refuses an already aborted signal before opening anything", async () => {
    const { src } = await sourceWith(["gzip"]);
    const dest = destWith();
    await assert.rejects(copyImage(src, dest, { signal: AbortSignal.abort() }), { code: "EABORT" });
    assert.equal(dest.log.closed, 0);
  });

  it("--preserve-digests refuses a conversion before writing", async () => {
    const { src } = await sourceWith(["gzip"]);
    const dest = destWith({ supportedManifestTypes: [DOCKER_MANIFEST] });
    await assert.rejects(copyImage(src, dest, { preserveDigests: true }), /preserve-digests/);
    assert.equal(dest.log.putBlobs.length, 0);
    assert.equal(dest.log.committed, false);
  });

  it("--preserve-digests ignores the destination's wish to compress", async () => {
    const { src, built } = await sourceWith(["none"]);
    const dest = destWith({ desiredLayerCompression: "compress" });
    const result = await copyImage(src, dest, { preserveDigests: true });
    assert.equal(result.manifestDigest, built.digest);
  });
});

describe("copyImage with signatures", () => {
  it("copies signatures when the manifest does not change", async () => {
    const { src } = await sourceWith(["gzip"]);
    src.image.signatures.set("", [Buffer.from("sig")]);
    const dest = destWith();
    await copyImage(src, dest);
    assert.deepEqual(dest.log.signatures.map((s) => Buffer.from(s.signatures[0]!).toString()), ["sig"]);
  });

  it("refuses to change a signed image unless signatures are removed", async () => {
    const { src } = await sourceWith(["none"]);
    src.image.signatures.set("", [Buffer.from("sig")]);
    // A destination that keeps layers as they are takes --dest-compress (as skopeo's dir: does).
    const dest = destWith();
    const refused = copyImage(src, dest, { compress: true });
    await assert.rejects(refused, (err: Error) => {
      assert.ok(err instanceof UnsupportedError);
      assert.match(err.message, /invalidate the image's signatures/);
      return true;
    });
    assert.equal(dest.log.committed, false);
    const dest2 = destWith();
    await copyImage(src, dest2, { compress: true, removeSignatures: true });
    assert.equal(dest2.log.signatures.length, 0);
    assert.equal(dest2.log.committed, true);
  });
});
