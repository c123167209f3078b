// An image's own manifest from the store, served byte for byte when nothing is to change and its
// layers are the uncompressed ones the store holds: the digest equals skopeo's and podman's.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import { containerCopyTransport } from "../../../transports/container-storage-copy/index.js";
import { sha256 } from "../../../src/digest.js";
import { DOCKER_LAYER_TAR, DOCKER_MANIFEST, OCI_LAYER_TAR, OCI_MANIFEST } from "../../../src/manifest/media-types.js";
import type { BlobInfo, ImageSource, SystemContext } from "../../../src/types.js";
import { buildScratchContainer, commitContainer, createStore, skopeoCopy, skopeoInspect, type Store } from "../../helpers/buildah-store.js";
import { tempDir } from "../../helpers/tools.js";

interface Manifest {
  config: { digest: string; size: number };
  layers: { digest: string; size: number; mediaType: string }[];
}

async function open(store: Store, name: string, ctx: SystemContext = {}): Promise<ImageSource> {
  return containerCopyTransport.parseReference(`${store.bracket}${name}`).newImageSource(ctx);
}

async function sha256Of(src: ImageSource, info: BlobInfo): Promise<string> {
  const hash = createHash("sha256");
  await pipeline((await src.getBlob(info)).stream, new Writable({ write: (c: Buffer, _e, done) => (hash.update(c), done()) }));
  return `sha256:${hash.digest("hex")}`;
}

/** The digest `podman images --digests` shows for `name`. */
async function podmanDigest(store: Store, name: string): Promise<string> {
  return store.podman(["images", "--digests", "--format", "{{.Digest}}", name]);
}

describe("container-copy of an image: the store's own manifest", () => {
  let store: Store;
  let pulled: Store;
  let work: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    work = await tempDir("imgcopy-stored-manifest-");
    store = await createStore("vfs");
    const ctr = await buildScratchContainer(store, "src");
    await commitContainer(store, ctr.name, "localhost/oci-fmt:1");
    await commitContainer(store, ctr.name, "localhost/docker-fmt:1", ["--format", "docker"]);
    // Through an OCI layout (gzip layers) into another store: its manifest names compressed layers.
    pulled = await createStore("vfs");
    await skopeoCopy(store.containersStorageRef("localhost/oci-fmt:1"), `oci:${join(work.path, "gz")}:x`);
    await skopeoCopy(`oci:${join(work.path, "gz")}:x`, pulled.containersStorageRef("localhost/pulled:1"));
  });
  after(async () => {
    await store?.cleanup();
    await pulled?.cleanup();
    await work?.cleanup();
  });

  for (const [name, mediaType, layerType] of [
    ["localhost/oci-fmt:1", OCI_MANIFEST, OCI_LAYER_TAR],
    ["localhost/docker-fmt:1", DOCKER_MANIFEST, DOCKER_LAYER_TAR],
  ] as const) {
    it(`serves ${name}'s stored manifest: the digest skopeo inspect and podman images --digests show`, async () => {
      // Asked first: skopeo and podman wait for a write lock that an open source's read lock blocks.
      const skopeos = (await skopeoInspect(store.containersStorageRef(name))).Digest;
      const podmans = await podmanDigest(store, name);
      const src = await open(store, name);
      try {
        const m = await src.getManifest();
        assert.equal(m.mediaType, mediaType);
        const digest = sha256(m.bytes);
        assert.equal(digest, skopeos);
        assert.equal(digest, podmans);
        const manifest = JSON.parse(Buffer.from(m.bytes).toString()) as Manifest;
        const infos = (await src.layerInfosForCopy!())!;
        assert.deepEqual(
          infos.map((i) => [i.digest, i.size, i.mediaType, i.compression, i.uncompressedDigest]),
          manifest.layers.map((l) => [l.digest, l.size, layerType, "none", l.digest]),
        );
        for (const info of infos) assert.equal(await sha256Of(src, info), info.digest);
        assert.equal(await sha256Of(src, { digest: manifest.config.digest, size: manifest.config.size }), manifest.config.digest);
      } finally {
        await src.close();
      }
    });
  }

  it("builds its own manifest when the commit options change the image", async () => {
    const stored = (await skopeoInspect(store.containersStorageRef("localhost/docker-fmt:1"))).Digest;
    for (const commit of [{ author: "someone" }, { annotations: { a: "b" } }, { timestamp: new Date(0) }]) {
      const src = await open(store, "localhost/docker-fmt:1", { commit });
      try {
        const m = await src.getManifest();
        assert.equal(m.mediaType, OCI_MANIFEST, JSON.stringify(commit));
        assert.notEqual(sha256(m.bytes), stored);
      } finally {
        await src.close();
      }
    }
    const unchanged = await open(store, "localhost/docker-fmt:1", { commit: { annotations: {}, changes: [] } });
    try {
      assert.equal(sha256((await unchanged.getManifest()).bytes), stored);
    } finally {
      await unchanged.close();
    }
  });

  it("describes uncompressed layers itself when the stored manifest names compressed ones", async () => {
    const storedManifest = (await skopeoInspect(pulled.containersStorageRef("localhost/pulled:1"), ["--raw"])) as unknown as Manifest;
    assert.ok(storedManifest.layers.every((l) => l.mediaType.endsWith("+gzip")), "skopeo stored gzip layers");
    const config = (await skopeoInspect(pulled.containersStorageRef("localhost/pulled:1"), ["--config"])) as { rootfs: { diff_ids: string[] } };
    const src = await open(pulled, "localhost/pulled:1");
    try {
      const m = await src.getManifest();
      assert.equal(m.mediaType, OCI_MANIFEST);
      const manifest = JSON.parse(Buffer.from(m.bytes).toString()) as Manifest;
      assert.equal(manifest.config.digest, storedManifest.config.digest, "the stored config is still served as it is");
      assert.deepEqual(manifest.layers.map((l) => [l.digest, l.mediaType]), config.rootfs.diff_ids.map((d) => [d, OCI_LAYER_TAR]));
      for (const info of (await src.layerInfosForCopy!())!) assert.equal(await sha256Of(src, info), info.digest);
    } finally {
      await src.close();
    }
  });
});
