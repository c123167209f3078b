import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CorruptInputError, UnsupportedError } from "../../src/errors.js";
import { configDescriptor, instanceDescriptors, layerDescriptors, manifestAnnotations } from "../../src/manifest/descriptors.js";
import { DOCKER_LIST, DOCKER_MANIFEST, DOCKER_SCHEMA1_SIGNED, OCI_INDEX, OCI_MANIFEST } from "../../src/manifest/media-types.js";
import { parseManifest } from "../../src/manifest/parse-manifest.js";
import { digestHex } from "../../src/digest.js";
import { run, tempDir } from "../helpers/tools.js";
import { BuildahStore } from "../copy/buildah-store.js";

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const WHAT = "manifest of oci:/x:latest";

function bytes(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

function oci(layers: unknown[] = [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: D("b"), size: 3 }]) {
  return { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: D("a"), size: 2 }, layers };
}

function corrupt(pattern: RegExp): (err: Error) => boolean {
  return (err) => {
    assert.ok(err instanceof CorruptInputError, `${err.name}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  };
}

describe("parseManifest on manifests written by buildah", () => {
  let tmp: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir();
    const store = new BuildahStore(join(tmp.path, "store"));
    await store.makeImage("localhost/p", { files: { f: "x" } });
    await store.push("localhost/p", `oci:${join(tmp.path, "oci")}:latest`);
    await store.push("localhost/p", `dir:${join(tmp.path, "v2s2")}`, "v2s2");
    await store.buildah("manifest", "create", "localhost/plist");
    await store.buildah("manifest", "add", "localhost/plist", "containers-storage:localhost/p");
    await store.buildah("manifest", "push", "-q", "--all", "--format", "v2s2", "localhost/plist", `dir:${join(tmp.path, "list")}`);
  });
  after(async () => tmp.cleanup());

  it("reads an OCI manifest and its descriptors", async () => {
    const index = JSON.parse(await readFile(join(tmp.path, "oci", "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
    const raw = await readFile(join(tmp.path, "oci", "blobs", "sha256", digestHex(index.manifests[0]!.digest)));
    const p = parseManifest(raw, undefined, WHAT);
    assert.equal(p.kind, "manifest");
    assert.equal(p.mediaType, OCI_MANIFEST);
    assert.equal(p.format, "oci");
    assert.equal(layerDescriptors(p).length, 1);
    assert.match(configDescriptor(p)!.digest, /^sha256:/);
    assert.deepEqual(instanceDescriptors(p), []);
    const fromIndex = parseManifest(Buffer.from(await readFile(join(tmp.path, "oci", "index.json"))), undefined, "index.json");
    assert.equal(fromIndex.kind, "index");
    assert.equal(fromIndex.mediaType, OCI_INDEX, "an index without mediaType is recognised by its manifests field");
  });

  it("reads a Docker v2s2 manifest and manifest list", async () => {
    const p = parseManifest(await readFile(join(tmp.path, "v2s2", "manifest.json")), undefined, WHAT);
    assert.equal(p.mediaType, DOCKER_MANIFEST);
    assert.equal(p.format, "docker");
    assert.equal(manifestAnnotations(p), undefined);
    const list = parseManifest(await readFile(join(tmp.path, "list", "manifest.json")), undefined, WHAT);
    assert.equal(list.mediaType, DOCKER_LIST);
    assert.equal(instanceDescriptors(list).length, 1);
    assert.equal(configDescriptor(list), undefined);
    const raw = (await run("skopeo", ["inspect", "--raw", `dir:${join(tmp.path, "list")}`])).stdout;
    assert.equal(instanceDescriptors(list)[0]!.digest, (JSON.parse(raw) as { manifests: Array<{ digest: string }> }).manifests[0]!.digest);
  });
});

describe("parseManifest errors", () => {
  it("names the field: a bad layer digest", () => {
    const layers = [0, 1, 2].map((i) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: i === 2 ? "md5:abc" : D("c"), size: 1 }));
    assert.throws(() => parseManifest(bytes(oci(layers)), OCI_MANIFEST, WHAT), corrupt(/^manifest of oci:\/x:latest: layers\[2\]\.digest is not a digest/));
  });

  it("names the field: missing config, bad size, layers not an array, annotations not strings", () => {
    const { config: _c, ...noConfig } = oci();
    assert.throws(() => parseManifest(bytes(noConfig), OCI_MANIFEST, WHAT), corrupt(/: config is missing$/));
    assert.throws(() => parseManifest(bytes(oci([{ mediaType: "x", digest: D("a"), size: -1 }])), undefined, WHAT), corrupt(/layers\[0\]\.size is not a size/));
    assert.throws(() => parseManifest(bytes({ ...oci(), layers: {} }), undefined, WHAT), corrupt(/: layers is not an array/));
    assert.throws(() => parseManifest(bytes({ ...oci(), annotations: { a: 1 } }), undefined, WHAT), corrupt(/annotations\["a"\] is not a string/));
    assert.throws(() => parseManifest(bytes({ ...oci(), schemaVersion: 3 }), undefined, WHAT), corrupt(/schemaVersion is 3, expected 2/));
  });

  it("rejects malformed JSON and non-objects", () => {
    assert.throws(() => parseManifest(Buffer.from("{not json"), OCI_MANIFEST, WHAT), corrupt(/^manifest of oci:\/x:latest: not valid JSON/));
    assert.throws(() => parseManifest(Buffer.from("[1]"), OCI_MANIFEST, WHAT), corrupt(/not a JSON object/));
  });

  it("requires a platform on Docker list entries", () => {
    const list = { schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [{ mediaType: DOCKER_MANIFEST, digest: D("d"), size: 5 }] };
    assert.throws(() => parseManifest(bytes(list), undefined, WHAT), corrupt(/manifests\[0\]\.platform is missing/));
  });

  it("refuses Docker schema 1 and unknown types as unsupported", () => {
    const schema1 = { schemaVersion: 1, name: "x", tag: "latest", fsLayers: [] };
    assert.throws(() => parseManifest(bytes(schema1), undefined, WHAT), UnsupportedError);
    assert.throws(() => parseManifest(bytes({ ...oci(), mediaType: undefined }), DOCKER_SCHEMA1_SIGNED, WHAT), /schema 1/);
    assert.throws(() => parseManifest(bytes({ ...oci(), mediaType: "application/x-other" }), undefined, WHAT), (err: Error) => err instanceof UnsupportedError && /application\/x-other/.test(err.message));
  });

  it("keeps fields it does not know (so an edited manifest loses nothing)", () => {
    const p = parseManifest(bytes({ ...oci(), extra: { kept: true } }), undefined, WHAT);
    assert.deepEqual((p.kind === "manifest" && (p.manifest as unknown as { extra: unknown }).extra), { kept: true });
  });
});
