import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { imageNameCandidates, resolveTarget } from "../../../../transports/container-storage-copy/store/resolve.js";
import { layerChain, lowersOf } from "../../../../transports/container-storage-copy/store/layer-chain.js";
import type { ContainerRecord, ImageRecord, LayerRecord } from "../../../../transports/container-storage-copy/store/record-types.js";
import type { StoreRecords } from "../../../../transports/container-storage-copy/store/records.js";
import { isImgcopyError } from "../../../../src/errors.js";

const G = "/store/g";
const hex = (prefix: string) => (prefix + "0".repeat(64)).slice(0, 64);
const DIGEST = `sha256:${"d".repeat(64)}`;

function records(containers: Partial<ContainerRecord>[], images: Partial<ImageRecord>[], layers: LayerRecord[] = []): StoreRecords {
  const at = <T>(record: T) => ({ record, root: G, file: `${G}/x.json` });
  return {
    location: { driver: "vfs", graphRoot: G, runRoot: "/store/r", additionalImageStores: [], transientStore: false },
    layers: new Map(layers.map((l) => [l.id, at(l)])),
    containers: containers.map((c) => at({ image: "", layer: "", ...c }) as ReturnType<typeof at<ContainerRecord>>),
    images: images.map((i) => at(i as ImageRecord)),
  };
}

const recs = records(
  [
    { id: hex("abc1"), names: ["web"], image: hex("ee1") },
    { id: hex("abc2"), names: ["db"] },
    { id: hex("f00"), names: ["localhost/app:latest"] },
  ],
  [
    { id: hex("ee1"), names: ["localhost/app:latest"] },
    { id: hex("ee2"), names: ["docker.io/library/alpine:3"] },
    { id: hex("ee3"), names: ["quay.io/team/tool:latest"], digest: DIGEST },
    { id: hex("ee4"), names: ["localhost/dup:1", "registry.example/a/dup:1"] },
    { id: hex("ee5"), names: ["registry.example/b/dup:1"] },
    { id: hex("cd1") },
  ],
);

function resolved(text: string): string {
  const t = resolveTarget(recs, text, `vfs@${G}`);
  return t.kind === "container" ? `container ${t.container.record.id.slice(0, 4)}` : `image ${t.image.record.id.slice(0, 4)}`;
}

function rejects(text: string, code: string, message: string): void {
  assert.throws(
    () => resolveTarget(recs, text, `vfs@${G}`),
    (err: unknown) => {
      assert.ok(isImgcopyError(err));
      assert.equal(err.code, code);
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe("resolving a reference in a store", () => {
  it("finds a container by name, full id, sha256:id and unique id prefix", () => {
    assert.equal(resolved("web"), "container abc1");
    assert.equal(resolved(hex("abc2")), "container abc2");
    assert.equal(resolved(`sha256:${hex("abc2")}`), "container abc2");
    assert.equal(resolved("abc1"), "container abc1");
    assert.equal(resolved("f0"), "container f000");
  });

  it("gives a container its image record", () => {
    const t = resolveTarget(recs, "web", "s");
    assert.equal(t.kind, "container");
    assert.equal(t.kind === "container" && t.image?.record.id, hex("ee1"));
  });

  it("prefers containers over images with the same name", () => {
    assert.equal(resolved("localhost/app:latest"), "container f000");
  });

  it("finds images by name as podman normalises it", () => {
    assert.equal(resolved("app"), "image ee10");
    assert.equal(resolved("app:latest"), "image ee10");
    assert.equal(resolved("alpine:3"), "image ee20");
    assert.equal(resolved("library/alpine:3"), "image ee20");
    assert.equal(resolved("docker.io/alpine:3"), "image ee20");
    assert.equal(resolved("index.docker.io/library/alpine:3"), "image ee20");
    assert.equal(resolved("quay.io/team/tool"), "image ee30");
    assert.equal(resolved("team/tool"), "image ee30", "short name matched against any registry");
    assert.equal(resolved("dup:1"), "image ee40", "localhost/ wins over other registries");
  });

  it("finds images by id, prefix and NAME@DIGEST", () => {
    assert.equal(resolved(hex("cd1")), "image cd10");
    assert.equal(resolved("cd"), "image cd10");
    assert.equal(resolved(`quay.io/team/tool@${DIGEST}`), "image ee30");
    assert.equal(resolved(`tool@${DIGEST}`), "image ee30");
  });

  it("refuses an ambiguous prefix with one line listing the matches", () => {
    rejects("abc", "EBADREF", `"abc" is ambiguous in store vfs@${G}: it matches containers abc100000000 (web), abc200000000 (db)`);
    rejects("ee", "EBADREF", `"ee" is ambiguous in store vfs@${G}: it matches images ee1000000000 (localhost/app:latest), ee2000000000 (docker.io/library/alpine:3), ee3000000000 (quay.io/team/tool:latest), ee4000000000 (localhost/dup:1, registry.example/a/dup:1), ee5000000000 (registry.example/b/dup:1)`);
  });

  it("refuses an ambiguous short name", () => {
    const r = records([], [{ id: hex("1"), names: ["a.io/x/tool:1"] }, { id: hex("2"), names: ["b.io/x/tool:1"] }]);
    assert.throws(() => resolveTarget(r, "x/tool:1", "s"), /"x\/tool:1" is ambiguous in store s: it matches images 100000000000 \(a.io\/x\/tool:1\), 200000000000/);
  });

  it("names the store when nothing matches", () => {
    rejects("nothing-here", "ENOTFOUND", `no container or image "nothing-here" in store vfs@${G}`);
    rejects(`quay.io/team/other@${DIGEST}`, "ENOTFOUND", `no container or image "quay.io/team/other@${DIGEST}" in store vfs@${G}`);
    rejects("123", "ENOTFOUND", `no container or image "123" in store vfs@${G}`);
  });

  it("lists the names a short name may be stored under", () => {
    assert.deepEqual(imageNameCandidates("app"), ["app", "localhost/app:latest", "docker.io/library/app:latest"]);
    assert.deepEqual(imageNameCandidates("localhost:5000/app"), ["localhost:5000/app", "localhost:5000/app:latest"]);
    assert.deepEqual(imageNameCandidates("docker.io/app:2"), ["docker.io/app:2", "docker.io/library/app:2"]);
  });
});

describe("layer chains", () => {
  const layers: LayerRecord[] = [{ id: "base" }, { id: "mid", parent: "base" }, { id: "top", parent: "mid" }, { id: "orphan", parent: "gone" }];
  const r = records([], [], layers);

  it("walks from the top layer to the base and lists it base first", () => {
    assert.deepEqual(
      layerChain(r, "top", "container c").map((l) => l.record.id),
      ["base", "mid", "top"],
    );
    assert.deepEqual(layerChain(r, undefined, "image i"), []);
    assert.deepEqual(lowersOf(["base", "mid", "top"], 2), ["mid", "base"]);
  });

  it("reports a missing parent as corrupt records", () => {
    assert.throws(
      () => layerChain(r, "orphan", "container c"),
      (err: unknown) => isImgcopyError(err) && err.code === "ECORRUPT" && err.message === "layer gone (parent of orphan) of container c is missing or incomplete in the store's layer records",
    );
  });
});
