import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readStoreRecords } from "../../../../transports/container-storage-copy/store/records.js";
import { bigDataFileName, readImageBigData, readImageConfig } from "../../../../transports/container-storage-copy/store/big-data.js";
import type { StoreLocation } from "../../../../transports/container-storage-copy/store/record-types.js";
import { tempDir } from "../../../helpers/tools.js";
import { buildBaseImage, buildChangedContainer, createStore, type Store } from "../../../helpers/buildah-store.js";
import { isImgcopyError } from "../../../../src/errors.js";
import { sha256 } from "../../../../src/digest.js";

const id = (c: string) => c.repeat(64);

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, typeof value === "string" ? value : JSON.stringify(value));
}

function location(g: string, r: string, extra: Partial<StoreLocation> = {}): StoreLocation {
  return { driver: "vfs", graphRoot: g, runRoot: r, additionalImageStores: [], transientStore: false, ...extra };
}

describe("store records (synthetic files)", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir("imgcopy-records-");
  });
  after(() => dir.cleanup());

  it("merges layers.json, volatile files and additional image stores; first record wins; skips incomplete layers", async () => {
    const g = join(dir.path, "merge/g");
    const r = join(dir.path, "merge/r");
    const ro = join(dir.path, "merge/ro");
    await writeJson(join(g, "vfs-layers/layers.json"), [{ id: id("a"), names: ["primary"] }, { id: id("b"), flags: { incomplete: true } }]);
    await writeJson(join(g, "vfs-layers/volatile-layers.json"), [{ id: id("a"), names: ["volatile-dup"] }, { id: id("c") }]);
    await writeJson(join(ro, "vfs-layers/layers.json"), [{ id: id("d") }, { id: id("c"), names: ["ro-dup"] }]);
    await writeJson(join(g, "vfs-images/images.json"), [{ id: id("1"), names: ["localhost/x:1"] }]);
    await writeJson(join(ro, "vfs-images/images.json"), [{ id: id("1"), names: ["ro-dup"] }, { id: id("2") }]);
    await writeJson(join(g, "vfs-containers/containers.json"), [{ id: id("e"), image: "", layer: id("a") }]);
    await writeJson(join(g, "vfs-containers/volatile-containers.json"), [{ id: id("f"), image: "", layer: id("c") }]);
    const recs = await readStoreRecords(location(g, r, { additionalImageStores: [ro] }));
    assert.deepEqual([...recs.layers.keys()], [id("a"), id("c"), id("d")]);
    assert.deepEqual(recs.layers.get(id("a"))?.record.names, ["primary"]);
    assert.equal(recs.layers.get(id("d"))?.root, ro);
    assert.deepEqual(
      recs.images.map((i) => [i.record.id, i.root]),
      [
        [id("1"), g],
        [id("2"), ro],
      ],
    );
    assert.deepEqual(
      recs.containers.map((c) => c.record.id),
      [id("e"), id("f")],
    );
  });

  it("reads volatile records from the run root for a transient store", async () => {
    const g = join(dir.path, "transient/g");
    const r = join(dir.path, "transient/r");
    await writeJson(join(g, "vfs-containers/volatile-containers.json"), [{ id: id("1"), image: "", layer: "x" }]);
    await writeJson(join(r, "vfs-containers/volatile-containers.json"), [{ id: id("2"), image: "", layer: "x" }]);
    await writeJson(join(r, "vfs-layers/volatile-layers.json"), [{ id: id("3") }]);
    const recs = await readStoreRecords(location(g, r, { transientStore: true }));
    assert.deepEqual(
      recs.containers.map((c) => c.record.id),
      [id("2")],
    );
    assert.deepEqual([...recs.layers.keys()], [id("3")]);
  });

  it("treats missing and empty files as no records", async () => {
    const g = join(dir.path, "empty/g");
    await writeJson(join(g, "vfs-layers/layers.json"), "");
    const recs = await readStoreRecords(location(g, join(dir.path, "empty/r")));
    assert.equal(recs.layers.size, 0);
    assert.deepEqual(recs.images, []);
    assert.deepEqual(recs.containers, []);
  });

  for (const [what, content, pattern] of [
    ["bad JSON", "[{", /are not valid JSON/],
    ["not an array", '{"id":"x"}', /expected a JSON array/],
    ["a record without id", '[{"names":[]}]', /entry 0 has no id/],
  ] as const) {
    it(`names the file in a CorruptInputError for ${what}`, async () => {
      const g = join(dir.path, `corrupt-${what.replace(/ /g, "-")}/g`);
      const file = join(g, "vfs-images/images.json");
      await writeJson(file, content);
      await assert.rejects(readStoreRecords(location(g, "/nonexistent")), (err: unknown) => {
        assert.ok(isImgcopyError(err));
        assert.equal(err.code, "ECORRUPT");
        assert.ok(err.message.startsWith(`store records ${file}`), err.message);
        assert.match(err.message, pattern);
        assert.ok(!err.message.includes("\n"));
        return true;
      });
    });
  }

  it("names big data files as containers/storage does", () => {
    assert.equal(bigDataFileName("manifest"), "manifest");
    assert.equal(bigDataFileName(`sha256:${id("a")}`), "=" + Buffer.from(`sha256:${id("a")}`).toString("base64"));
    assert.equal(bigDataFileName("signature-ab"), "=c2lnbmF0dXJlLWFi");
  });
});

describe("store records (a buildah vfs store)", () => {
  let store: Store;
  let baseId: string;
  let ctrId: string;
  before(async () => {
    store = await createStore("vfs");
    baseId = (await buildBaseImage(store)).id;
    ctrId = (await buildChangedContainer(store, { name: "localhost/base:1", id: baseId })).id;
  });
  after(() => store.cleanup());

  it("reads the records buildah wrote", async () => {
    const loc = location(store.graphRoot, store.runRoot);
    const recs = await readStoreRecords(loc);
    const image = recs.images.find((i) => i.record.id === baseId);
    assert.ok(image);
    assert.deepEqual(image.record.names, ["localhost/base:1"]);
    const ctr = recs.containers.find((c) => c.record.id === ctrId);
    assert.ok(ctr);
    assert.equal(ctr.record.image, baseId);
    const rw = recs.layers.get(ctr.record.layer)?.record;
    assert.ok(rw);
    assert.equal(rw["diff-digest"], undefined, "a read-write layer has no digest yet");
    assert.equal(rw.parent, image.record.layer);

    const config = await readImageConfig(image, "vfs");
    assert.equal(config?.key, `sha256:${baseId}`);
    assert.equal(sha256(config!.bytes), `sha256:${baseId}`);
    const manifest = JSON.parse((await readImageBigData(image, "vfs", "manifest"))!.toString()) as { config: { digest: string } };
    assert.equal(manifest.config.digest, `sha256:${baseId}`);
    assert.equal(await readImageBigData(image, "vfs", "no-such-key"), undefined);
  });
});
