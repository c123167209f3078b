// Owners on disk are host ids when a layer has uidmap/gidmap; the tar must carry container ids.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { chown, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { IdMapper, OVERFLOW_ID, toContainerId } from "../../../../transports/container-storage-copy/layers/id-mapping.js";
import { openLayerStream } from "../../../../transports/container-storage-copy/layers/index.js";
import { BuildahStore } from "./buildah-store.js";
import { copyToLayout, layerTar } from "./oci-layout.js";
import { type ListedEntry, listTar } from "./tar-listing.js";

describe("toContainerId", () => {
  const map = [
    { container_id: 0, host_id: 100000, size: 1000 },
    { container_id: 1000, host_id: 5000, size: 10 },
  ];

  it("maps host ids through the range that holds them", () => {
    assert.equal(toContainerId(map, 100000), 0);
    assert.equal(toContainerId(map, 100999), 999);
    assert.equal(toContainerId(map, 5009), 1009);
  });

  it("is the identity without a map, and undefined outside every range", () => {
    assert.equal(toContainerId(undefined, 42), 42);
    assert.equal(toContainerId([], 42), 42);
    assert.equal(toContainerId(map, 101000), undefined);
    assert.equal(toContainerId(map, 4999), undefined);
  });

  it("writes the overflow id for an unmappable id and counts it", () => {
    const m = new IdMapper(map, map);
    assert.equal(m.uid(7), OVERFLOW_ID);
    assert.equal(m.gid(100001), 1);
    assert.equal(m.unmappedCount, 1);
  });
});

describe("a uid-mapped container's layers (vfs)", () => {
  let store: BuildahStore;
  let rwLayer: string;
  let ours: ListedEntry[];
  const warnings: string[] = [];

  before(async () => {
    store = await BuildahStore.create("vfs");
    const c = await store.from("scratch");
    await mkdir(join(c.mount, "etc"));
    await writeFile(join(c.mount, "etc/base"), "base\n");
    await store.commit(c.id, "localhost/idmap-base:1");
    const name = await store.buildah("from", "--quiet", "--pull-never", "--userns-uid-map", "0:100000:65536", "--userns-gid-map", "0:200000:65536", "localhost/idmap-base:1");
    const record = (await store.containers()).find((r) => r.names?.includes(name));
    assert.ok(record);
    const mount = await store.buildah("mount", record.id);
    await writeFile(join(mount, "etc/user-file"), "owned by 1000\n");
    await chown(join(mount, "etc/user-file"), 101000, 201000);
    await writeFile(join(mount, "etc/root-file"), "owned by root\n");
    await chown(join(mount, "etc/root-file"), 100000, 200000);
    await writeFile(join(mount, "etc/stray"), "host ids outside the map\n");
    await chown(join(mount, "etc/stray"), 5, 5);
    rwLayer = record.layer;
    const tar = join(store.dir, "rw.tar");
    await pipeline(await openLayerStream(await store.streamInput(rwLayer, { warn: (m) => warnings.push(m) })), createWriteStream(tar));
    ours = await listTar(createReadStream(tar));
    await store.commit(record.id, "localhost/idmap-committed:1");
  });
  after(async () => store.cleanup());

  it("has a mapping on the container's layer and on the mapped copy of the image layer", async () => {
    const [rw, parent] = await store.chain(rwLayer);
    assert.ok(rw?.uidmap?.length && parent?.uidmap?.length, "the store made a mapped layer chain");
  });

  it("replays the mapped copy of the image layer bit-for-bit", async () => {
    const [, parent] = await store.chain(rwLayer);
    assert.ok(parent);
    const chunks: Buffer[] = [];
    for await (const chunk of await openLayerStream(await store.streamInput(parent.id))) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    assert.equal(bytes.length, parent["diff-size"]);
    assert.equal(`sha256:${createHash("sha256").update(bytes).digest("hex")}`, parent["diff-digest"]);
  });

  it("writes container ids, as buildah commit does", async () => {
    const owners = Object.fromEntries(ours.map((e) => [e.name, `${e.uid}:${e.gid}`]));
    assert.deepEqual(owners, { "etc/": "0:0", "etc/root-file": "0:0", "etc/stray": `${OVERFLOW_ID}:${OVERFLOW_ID}`, "etc/user-file": "1000:1000" });
    const layout = join(store.dir, "layout");
    await copyToLayout(store, "localhost/idmap-committed:1", layout, "c");
    const committed = Object.fromEntries((await listTar(await layerTar(layout, "c", -1))).map((e) => [e.name, `${e.uid}:${e.gid}`]));
    // buildah leaves out a file whose owner it cannot map; we keep it, owned by the overflow id.
    assert.deepEqual(committed, { "etc/": "0:0", "etc/root-file": "0:0", "etc/user-file": "1000:1000" });
  });

  it("warns once about ids outside the map", () => {
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", new RegExp(`^layer ${rwLayer}: 2 owner ids are outside the layer's uidmap/gidmap; written as 65534`));
  });
});
