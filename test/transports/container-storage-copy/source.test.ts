// The container-copy image source on real buildah stores: manifest and config from the records,
// copy infos with placeholders, layer streams, list(), and the errors a user sees.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, rename, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import { extract } from "tar-stream";
import { containerCopyTransport, containersStorageTransport } from "../../../transports/container-storage-copy/index.js";
import { placeholderDigest } from "../../../transports/container-storage-copy/image-manifest.js";
import { readStoreRecords } from "../../../transports/container-storage-copy/store/records.js";
import { isImgcopyError } from "../../../src/errors.js";
import type { BlobInfo, ImageSource } from "../../../src/types.js";
import { OCI_LAYER_TAR, OCI_MANIFEST } from "../../../src/manifest/media-types.js";
import {
  buildBaseImage,
  buildChangedContainer,
  buildScratchContainer,
  commitContainer,
  createStore,
  type BaseImage,
  type Store,
  type StorageDriver,
} from "../../helpers/buildah-store.js";

interface Manifest {
  mediaType: string;
  config: { digest: string; size: number };
  layers: { digest: string; size: number; mediaType: string }[];
}

async function open(store: Store, name: string): Promise<ImageSource> {
  return containerCopyTransport.parseReference(`${store.bracket}${name}`).newImageSource({});
}

async function manifestOf(src: ImageSource): Promise<Manifest> {
  const m = await src.getManifest();
  assert.equal(m.mediaType, OCI_MANIFEST);
  return JSON.parse(Buffer.from(m.bytes).toString()) as Manifest;
}

/** sha256 and length of a layer stream. */
async function digestOf(src: ImageSource, info: BlobInfo): Promise<{ digest: string; size: number; blobSize: number }> {
  const blob = await src.getBlob(info);
  const hash = createHash("sha256");
  let size = 0;
  await pipeline(
    blob.stream,
    new Writable({
      write(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done();
      },
    }),
  );
  return { digest: `sha256:${hash.digest("hex")}`, size, blobSize: blob.size };
}

/** The entry names of a layer stream. */
async function tarNames(src: ImageSource, info: BlobInfo): Promise<string[]> {
  const names: string[] = [];
  const ex = extract();
  ex.on("entry", (header, stream, next) => {
    names.push(header.name);
    stream.on("end", next);
    stream.resume();
  });
  await pipeline((await src.getBlob(info)).stream, ex);
  return names;
}

function assertError(err: unknown, code: string, message: string | RegExp): boolean {
  assert.ok(isImgcopyError(err), String(err));
  assert.equal(err.code, code);
  if (typeof message === "string") assert.equal(err.message, message);
  else assert.match(err.message, message);
  assert.ok(!err.message.includes("\n"));
  return true;
}

for (const driver of ["vfs", "overlay"] as StorageDriver[]) {
  describe(`container-copy source (${driver})`, () => {
    let store: Store;
    let base: BaseImage;
    before(async () => {
      store = await createStore(driver);
      base = await buildBaseImage(store);
      await buildChangedContainer(store, base, "changed");
      await buildScratchContainer(store, "scratchy");
    });
    after(() => store.cleanup());

    it("streams every image layer bit-exact from tar-split: sha256 and size equal the records", async () => {
      const src = await open(store, base.name);
      try {
        const manifest = await manifestOf(src);
        const infos = (await src.layerInfosForCopy!())!;
        assert.equal(infos.length, 2);
        for (const [i, info] of infos.entries()) {
          assert.equal(info.placeholder, undefined);
          assert.equal(info.uncompressedDigest, info.digest);
          assert.equal(info.compression, "none");
          assert.equal(info.mediaType, OCI_LAYER_TAR);
          assert.equal(manifest.layers[i]!.digest, info.digest);
          const got = await digestOf(src, info);
          assert.deepEqual(got, { digest: info.digest, size: info.size, blobSize: info.size });
        }
      } finally {
        await src.close();
      }
    });

    it("marks the read-write layer as a placeholder and streams it with an unknown size", async () => {
      const src = await open(store, "changed");
      try {
        const manifest = await manifestOf(src);
        const records = await readStoreRecords({ driver, graphRoot: store.graphRoot, runRoot: store.runRoot, additionalImageStores: [], transientStore: false });
        const ctr = records.containers.find((c) => c.record.names?.includes("changed"))!.record;
        const infos = (await src.layerInfosForCopy!())!;
        assert.equal(infos.length, 3);
        assert.deepEqual(infos[2], { digest: placeholderDigest(ctr.layer), size: -1, mediaType: OCI_LAYER_TAR, compression: "none", placeholder: true });
        assert.deepEqual(
          manifest.layers.map((l) => l.size),
          [infos[0]!.size, infos[1]!.size, 0],
        );
        const names = await tarNames(src, infos[2]!);
        assert.ok(names.some((n) => n.replace(/^\.?\//, "") === "added/new.txt"), names.join(" "));
        assert.equal((await src.getBlob(infos[2]!)).size, -1);
      } finally {
        await src.close();
      }
    });

    it("streams a scratch container's only layer", async () => {
      const src = await open(store, "scratchy");
      try {
        const infos = (await src.layerInfosForCopy!())!;
        assert.equal(infos.length, 1);
        assert.equal(infos[0]!.placeholder, true);
        assert.ok((await tarNames(src, infos[0]!)).length > 0);
      } finally {
        await src.close();
      }
    });

    it("builds manifest and config from the records alone (no layer content is read)", async () => {
      const records = await readStoreRecords({ driver, graphRoot: store.graphRoot, runRoot: store.runRoot, additionalImageStores: [], transientStore: false });
      const imageLayers = [...records.layers.values()].filter((l) => l.record["diff-digest"]).map((l) => l.record.id);
      const dirOf = (id: string) => join(store.graphRoot, driver === "vfs" ? "vfs/dir" : "overlay", id);
      for (const id of imageLayers) await rename(dirOf(id), `${dirOf(id)}.hidden`);
      try {
        const src = await open(store, "changed");
        try {
          const manifest = await manifestOf(src);
          const config = await src.getBlob({ digest: manifest.config.digest, size: manifest.config.size });
          const bytes = await text(config.stream);
          assert.equal(`sha256:${createHash("sha256").update(bytes).digest("hex")}`, manifest.config.digest);
          await assert.rejects(src.getBlob({ digest: manifest.layers[0]!.digest, size: -1 }).then((b) => text(b.stream)));
        } finally {
          await src.close();
        }
      } finally {
        for (const id of imageLayers) await rename(`${dirOf(id)}.hidden`, dirOf(id));
      }
    });
  });
}

describe("container-copy source: errors, images and list (vfs)", () => {
  let store: Store;
  let other: Store;
  let base: BaseImage;
  before(async () => {
    store = await createStore("vfs");
    base = await buildBaseImage(store);
    await buildChangedContainer(store, base, "changed");
    other = await createStore("vfs");
    const c = await buildScratchContainer(other, "ro-src");
    await commitContainer(other, c.name, "localhost/from-ro:1");
  });
  after(async () => {
    await store.cleanup();
    await other.cleanup();
  });

  it("refuses manifest instances, unknown blobs and use after close", async () => {
    const src = await open(store, "changed");
    const digest = `sha256:${"0".repeat(64)}`;
    await assert.rejects(src.getManifest(digest), (e) => assertError(e, "ENOTFOUND", /has a single image, not a list; no instance sha256:0+$/));
    await assert.rejects(src.getBlob({ digest, size: -1 }), (e) => assertError(e, "ENOTFOUND", /blob sha256:0+ is not part of container [0-9a-f]{64}$/));
    await src.close();
    await src.close();
    const m = await manifestOf(src);
    await assert.rejects(src.getBlob({ digest: m.config.digest, size: m.config.size }), (e) => assertError(e, "EIO", /the image source is closed/));
  });

  it("notes once that an inspected container's read-write layer is a placeholder, and only when nothing is copied", async () => {
    const note = `note: container-copy:${store.bracket}changed: the container's read-write layer is not read by inspect; its digest and size in this output are placeholders (export the image to get real ones)`;
    /** The warnings of one use of a source of `name`. */
    const warningsOf = async (name: string, use: (src: ImageSource) => Promise<void>): Promise<string[]> => {
      const warnings: string[] = [];
      const src = await containerCopyTransport.parseReference(`${store.bracket}${name}`).newImageSource({ warn: (m) => warnings.push(m) });
      try {
        await use(src);
      } finally {
        await src.close();
      }
      return warnings;
    };
    const readConfig = async (src: ImageSource): Promise<void> => {
      const m = await manifestOf(src);
      await text((await src.getBlob({ digest: m.config.digest, size: m.config.size })).stream);
    };
    // inspect: manifest, then config; the placeholder is the same each time.
    const inspected = await warningsOf("changed", async (src) => {
      assert.equal((await manifestOf(src)).layers[2]!.digest, (await manifestOf(src)).layers[2]!.digest);
      await readConfig(src);
    });
    assert.deepEqual(inspected, [note]);
    // inspect --raw: the manifest alone.
    assert.deepEqual(await warningsOf("changed", async (src) => void (await src.getManifest())), [note]);
    // A copy asks for the layers to copy first: the placeholders get replaced, nothing to note.
    const copied = await warningsOf("changed", async (src) => {
      await src.getManifest();
      await src.layerInfosForCopy!();
      await readConfig(src);
    });
    assert.deepEqual(copied, []);
    // An image has no placeholder.
    assert.deepEqual(await warningsOf(base.name, readConfig), []);
  });

  it("names the store when the name is unknown, and hints at another driver's records", async () => {
    await assert.rejects(open(store, "nope"), (e) => assertError(e, "ENOTFOUND", `no container or image "nope" in store vfs@${store.graphRoot}`));
    const unnamed = containerCopyTransport.parseReference(`[${store.graphRoot}]changed`);
    // No driver named: a store with only vfs/ is vfs, as containers/storage detects it (a rootless default).
    await (await unnamed.newImageSource({ env: { CONTAINERS_STORAGE_CONF: "/dev/null" } })).close();
    // With an (empty) overlay/ beside it, overlay comes first: the miss hints at the vfs records.
    await mkdir(join(store.graphRoot, "overlay"));
    try {
      await assert.rejects(
        unnamed.newImageSource({ env: { CONTAINERS_STORAGE_CONF: "/dev/null" } }),
        (e) => assertError(e, "ENOTFOUND", `no container or image "changed" in store overlay@${store.graphRoot} (the store also has vfs records: name the driver, e.g. [vfs@${store.graphRoot}])`),
      );
    } finally {
      await rmdir(join(store.graphRoot, "overlay"));
    }
  });

  it("reports a missing graph root and an unsupported driver", async () => {
    const missing = join(store.dir, "missing");
    await assert.rejects(
      containerCopyTransport.parseReference(`[vfs@${missing}]x`).newImageSource({}),
      (e) => assertError(e, "ENOTFOUND", `containers/storage graph root ${missing} does not exist`),
    );
    await assert.rejects(
      containerCopyTransport.parseReference(`[btrfs@${store.graphRoot}]x`).newImageSource({}),
      (e) => assertError(e, "EUNSUPPORTED", /storage driver "btrfs" .* is not supported/),
    );
  });

  it("takes the store from the SystemContext when the reference has no bracket", async () => {
    const src = await containersStorageTransport
      .parseReference("localhost/base:1")
      .newImageSource({ storageRoot: store.graphRoot, storageRunRoot: store.runRoot, storageDriver: "vfs" });
    try {
      assert.equal((await manifestOf(src)).config.digest, `sha256:${base.id}`);
    } finally {
      await src.close();
    }
  });

  it("reads images of an additional image store and streams their layers from there", async () => {
    const ref = containerCopyTransport.parseReference(`[vfs@${store.graphRoot}+${store.runRoot}:additionalimagestore=${other.graphRoot}]localhost/from-ro:1`);
    const src = await ref.newImageSource({});
    try {
      const infos = (await src.layerInfosForCopy!())!;
      assert.equal(infos.length, 1);
      const got = await digestOf(src, infos[0]!);
      assert.equal(got.digest, infos[0]!.digest);
    } finally {
      await src.close();
    }
  });

  it("lists a store's containers and images with their sizes", async () => {
    const items = await containerCopyTransport.list!(`[vfs@${store.graphRoot}+${store.runRoot}]`, {});
    const records = await readStoreRecords({ driver: "vfs", graphRoot: store.graphRoot, runRoot: store.runRoot, additionalImageStores: [], transientStore: false });
    const changed = items.find((i) => i.names.includes("changed"));
    assert.equal(changed?.kind, "container");
    assert.equal(changed?.image, base.id);
    assert.equal(changed?.created, records.containers.find((c) => c.record.names?.includes("changed"))!.record.created);
    const image = items.find((i) => i.id === base.id);
    assert.equal(image?.kind, "image");
    assert.deepEqual(image?.names, [base.name]);
    const top = records.layers.get(records.images.find((i) => i.record.id === base.id)!.record.layer!)!.record;
    assert.equal(image?.size, top["diff-size"]! + records.layers.get(top.parent!)!.record["diff-size"]!);
    assert.equal(items.length, records.containers.length + records.images.length);
    await assert.rejects(containerCopyTransport.list!(`[vfs@${store.graphRoot}]changed`, {}), (e) => assertError(e, "EBADREF", /list takes a store/));
  });
});
