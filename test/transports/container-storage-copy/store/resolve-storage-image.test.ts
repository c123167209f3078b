// containers-storage: references resolve to images only, exactly as containers/image (skopeo 1.9) does.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { resolveTarget, type ResolvedTarget } from "../../../../transports/container-storage-copy/store/resolve.js";
import type { ContainerRecord, ImageRecord } from "../../../../transports/container-storage-copy/store/record-types.js";
import type { StoreRecords } from "../../../../transports/container-storage-copy/store/records.js";
import { isImgcopyError } from "../../../../src/errors.js";

const G = "/store/g";
const hex = (prefix: string) => (prefix + "0".repeat(64)).slice(0, 64);
const M1 = `sha256:${"1".repeat(64)}`;
const M2 = `sha256:${"2".repeat(64)}`;

function records(containers: Partial<ContainerRecord>[], images: Partial<ImageRecord>[]): StoreRecords {
  const at = <T>(record: T) => ({ record, root: G, file: `${G}/x.json` });
  return {
    location: { driver: "vfs", graphRoot: G, runRoot: "/store/r", additionalImageStores: [], transientStore: false },
    layers: new Map(),
    containers: containers.map((c) => at({ image: "", layer: "", ...c }) as ReturnType<typeof at<ContainerRecord>>),
    images: images.map((i) => at(i as ImageRecord)),
  };
}

const recs = records(
  [
    { id: hex("abc1"), names: ["app"], image: hex("abc2") },
    { id: hex("ee10"), names: ["localhost/app:latest"] },
  ],
  [
    { id: hex("abc2"), names: ["localhost/app:latest", "localhost/app:v2"], digest: M1, "big-data-names": ["manifest", `manifest-${M1}`, `manifest-${M2}`] },
    { id: hex("ee11"), names: ["docker.io/library/tool:1"] },
    { id: hex("ee12"), names: ["docker.io/library/app:latest"] },
    { id: hex("f00d") },
  ],
);

function image(text: string): ResolvedTarget & { kind: "image" } {
  const t = resolveTarget(recs, text, "s", "containers-storage");
  assert.equal(t.kind, "image", `${text} resolved to a ${t.kind}`);
  return t as ResolvedTarget & { kind: "image" };
}
const id4 = (text: string): string => image(text).image.record.id.slice(0, 4);

function notFound(text: string, message: RegExp): void {
  assert.throws(
    () => resolveTarget(recs, text, "s", "containers-storage"),
    (err: unknown) => isImgcopyError(err) && (err.code === "ENOTFOUND" || err.code === "EBADREF") && message.test(err.message),
  );
}

describe("containers-storage: resolves images only, as containers/image does", () => {
  it("never resolves a container, by name or by id prefix", () => {
    assert.equal(id4("localhost/app"), "abc2");
    assert.equal(id4("abc"), "abc2", "an id prefix shared with a container picks the image");
    notFound("ee10", /no image/);
  });

  it("qualifies a short name with docker.io/library/ only (skopeo does not try localhost/)", () => {
    assert.equal(id4("app"), "ee12");
    assert.equal(id4("tool:1"), "ee11");
    assert.equal(id4("docker.io/tool:1"), "ee11");
    notFound("tool", /docker\.io\/library\/tool:latest/);
  });

  it("takes a full id, a unique id prefix of 3 or more characters, and not sha256:ID", () => {
    assert.equal(id4(hex("f00d")), "f00d");
    assert.equal(id4("f00"), "f00d");
    notFound("f0", /no image/);
    notFound(`sha256:${hex("f00d")}`, /./);
  });

  it("reads the @ID forms: @ID, @PREFIX, NAME@ID (the tag is not compared)", () => {
    assert.equal(id4(`@${hex("f00d")}`), "f00d");
    assert.equal(id4("@f00d"), "f00d");
    assert.equal(id4(`localhost/app@${hex("abc2")}`), "abc2");
    assert.equal(id4(`localhost/app:other@${hex("abc2")}`), "abc2");
    notFound(`localhost/nope@${hex("abc2")}`, /./);
    notFound(`app@${hex("abc2")}`, /./);
    notFound("@zz", /does not look like an image ID or digest/);
  });

  it("reads NAME@DIGEST by any manifest digest of the image, and picks that manifest", () => {
    const t = image(`localhost/app@${M2}`);
    assert.equal(t.image.record.id.slice(0, 4), "abc2");
    assert.equal(t.manifestKey, `manifest-${M2}`);
    assert.equal(t.dockerName, "localhost/app");
    assert.equal(image(`localhost/app:latest@${M1}`).manifestKey, `manifest-${M1}`);
    notFound(`localhost/other@${M2}`, /./);
  });

  it("serves the last-written manifest (big data \"manifest\") and names the repository", () => {
    const t = image("localhost/app:v2");
    assert.equal(t.manifestKey, "manifest");
    assert.equal(t.dockerName, "localhost/app");
    assert.equal(image("abc2").dockerName, undefined);
  });

  it("container-copy: keeps its rule, a container first", () => {
    const t = resolveTarget(recs, "app", "s", "container-copy");
    assert.equal(t.kind, "container");
    assert.equal(resolveTarget(recs, "abc", "s", "container-copy").kind, "container");
  });
});
