import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { copyImage } from "../../src/copy/index.js";
import { sha256 } from "../../src/digest.js";
import { CorruptInputError, DigestMismatchError, IOError } from "../../src/errors.js";
import { MemoryImage, MemoryReference, type DestinationBehaviour, type SourceBehaviour } from "./memory-transport.js";
import { addImage, tarOf } from "./test-images.js";
import type { ImageDestination, ImageSource } from "../../src/types.js";

async function setup(source: SourceBehaviour = {}, dest: DestinationBehaviour = {}, diffIds?: string[]) {
  const image = new MemoryImage();
  const tars = [await tarOf({ a: "alpha\n".repeat(500) }), await tarOf({ b: "beta\n".repeat(500) })];
  const built = addImage(image, { layers: tars.map((tar) => ({ tar, compression: "gzip" as const })), diffIds });
  return {
    built,
    tars,
    src: new MemoryReference("src", image, source),
    dest: new MemoryReference("dest", new MemoryImage(), {}, dest),
  };
}

function assertClosedWithoutCommit(src: MemoryReference, dest: MemoryReference): void {
  assert.equal(dest.log.committed, false, "not committed");
  assert.equal(dest.log.closed, 1, "destination closed once");
  assert.equal(src.sourceClosed, 1, "source closed once");
  assert.equal(dest.image.blobs.size + dest.image.manifests.size, 0, "nothing published");
}

describe("copyImage failures", () => {
  it("a layer whose bytes do not match its digest fails naming the digest; the destination is closed without commit", async () => {
    let target = "";
    const { src, dest, built } = await setup({
      tamper: (info, bytes) => {
        if (info.digest !== target) return bytes;
        const copy = Buffer.from(bytes);
        copy[copy.length - 10] = (copy[copy.length - 10]! + 1) & 0xff;
        return copy;
      },
    });
    target = built.manifest.layers[1]!.digest;
    await assert.rejects(copyImage(src, dest), (err: Error) => {
      assert.ok(err instanceof DigestMismatchError, `${err.name}: ${err.message}`);
      assert.equal(err.expected, target);
      assert.match(err.message, new RegExp(`layer ${target} of mem:src: digest mismatch`));
      return true;
    });
    assertClosedWithoutCommit(src, dest);
  });

  it("a layer longer than its manifest size fails with a size mismatch", async () => {
    let target = "";
    const { src, dest, built } = await setup({
      tamper: (info, bytes) => (info.digest === target ? Buffer.concat([bytes, Buffer.from("extra")]) : bytes),
    });
    target = built.manifest.layers[0]!.digest;
    const size = built.manifest.layers[0]!.size;
    await assert.rejects(copyImage(src, dest), (err: Error) => {
      assert.ok(err instanceof DigestMismatchError);
      assert.match(err.message, new RegExp(`layer ${target}.*expected size ${size}, got more than ${size} bytes`));
      return true;
    });
    assertClosedWithoutCommit(src, dest);
  });

  it("a layer shorter than its manifest size fails with a size mismatch", async () => {
    let target = "";
    const { src, dest, built } = await setup({
      tamper: (info, bytes) => (info.digest === target ? bytes.subarray(0, bytes.length - 1) : bytes),
    });
    target = built.manifest.layers[0]!.digest;
    const size = built.manifest.layers[0]!.size;
    await assert.rejects(copyImage(src, dest), new RegExp(`expected size ${size}, got size ${size - 1}`));
    assertClosedWithoutCommit(src, dest);
  });

  it("a layer whose uncompressed digest differs from the config's diff_ids fails naming the layer (--verify-diffids, or when decompressed)", async () => {
    const wrong = sha256("not the layer");
    const tarsFirst = await tarOf({ a: "alpha\n".repeat(500) });
    const { src, dest, built } = await setup({}, {}, [sha256(tarsFirst), wrong]);
    const decompressing = await setup({}, {}, [sha256(tarsFirst), wrong]);
    await assert.rejects(copyImage(decompressing.src, decompressing.dest, { decompress: true }), /uncompressed content vs rootfs\.diff_ids\[1\]/);
    assertClosedWithoutCommit(decompressing.src, decompressing.dest);
    await assert.rejects(copyImage(src, dest, { verifyDiffIds: true }), (err: Error) => {
      assert.ok(err instanceof DigestMismatchError);
      assert.equal(err.expected, wrong);
      assert.match(err.message, new RegExp(`layer ${built.manifest.layers[1]!.digest} of mem:src: uncompressed content vs rootfs.diff_ids\\[1\\]`));
      return true;
    });
    assertClosedWithoutCommit(src, dest);
  });

  it("a config that does not match its digest fails", async () => {
    let config = "";
    const { src, dest, built } = await setup({
      tamper: (info, bytes) => (info.digest === config ? Buffer.from(bytes.toString().replace("amd64", "arm64")) : bytes),
    });
    config = built.manifest.config.digest;
    await assert.rejects(copyImage(src, dest), new RegExp(`config ${config} of mem:src: digest mismatch`));
    assertClosedWithoutCommit(src, dest);
  });

  it("corrupt gzip data under a correct digest fails as corrupt input naming the layer with --verify-diffids", async () => {
    const image = new MemoryImage();
    const tar = await tarOf({ a: "x" });
    const bogus = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]), Buffer.from("this is not deflate data at all")]);
    const built = addImage(image, { layers: [{ tar, compression: "none" }] });
    // Swap the layer for the bogus gzip, with a manifest and config that agree on its digest.
    const m = built.manifest;
    image.blobs.set(sha256(bogus), bogus);
    const manifest = { ...m, layers: [{ ...m.layers[0]!, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256(bogus), size: bogus.length }] };
    image.manifests.set("", { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: built.mediaType });
    const src = new MemoryReference("src", image);
    const dest = new MemoryReference("dest");
    // Copied unchanged, its digest proves the bytes and it is not inflated (as skopeo does): it goes through as it is.
    const passThrough = new MemoryReference("dest");
    await copyImage(new MemoryReference("src", image), passThrough);
    assert.ok(passThrough.image.blobs.get(sha256(bogus))?.equals(bogus), "the blob went through unchanged, not decompressed");
    await assert.rejects(copyImage(src, dest, { verifyDiffIds: true }), (err: Error) => {
      assert.ok(err instanceof CorruptInputError, `${err.name}: ${err.message}`);
      assert.match(err.message, new RegExp(`layer ${sha256(bogus)} of mem:src: corrupt gzip data`));
      return true;
    });
    assertClosedWithoutCommit(src, dest);
  });

  it("a destination whose putBlob fails: the error surfaces and nothing is committed", async () => {
    const { src, dest } = await setup({}, {
      beforePutBlob: (info) => {
        if (!info.mediaType?.includes("config")) throw new IOError("mem:dest: disk full");
      },
    });
    await assert.rejects(copyImage(src, dest), /mem:dest: disk full/);
    assertClosedWithoutCommit(src, dest);
  });

  it("a source that cannot be opened, even one that throws instead of rejecting: the destination opened alongside is closed without commit", async () => {
    const { src, dest } = await setup();
    src.newImageSource = (): Promise<ImageSource> => {
      throw new IOError("mem:src: cannot open");
    };
    await assert.rejects(copyImage(src, dest), /mem:src: cannot open/);
    assert.equal(dest.log.committed, false, "not committed");
    assert.equal(dest.log.closed, 1, "destination closed once");
  });

  it("a destination that cannot be opened: its error is the one reported, and the source opened alongside is closed", async () => {
    const { src, dest } = await setup();
    dest.newImageDestination = (): Promise<ImageDestination> => {
      throw new IOError("mem:dest: cannot open");
    };
    await assert.rejects(copyImage(src, dest), /mem:dest: cannot open/);
    assert.equal(src.sourceClosed, 1, "source closed once");
  });

  it("a malformed source manifest fails naming the field", async () => {
    const { src, dest, built } = await setup();
    const bad = { ...built.manifest, layers: [built.manifest.layers[0], { ...built.manifest.layers[1], digest: "sha256:nope" }] };
    src.image.manifests.set("", { bytes: Buffer.from(JSON.stringify(bad)), mediaType: built.mediaType });
    await assert.rejects(copyImage(src, dest), (err: Error) => {
      assert.ok(err instanceof CorruptInputError);
      assert.match(err.message, /^manifest of mem:src: layers\[1\]\.digest is not a digest/);
      return true;
    });
    assert.equal(dest.log.closed, 1);
  });
});
