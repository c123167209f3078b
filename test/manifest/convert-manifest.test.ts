import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UnsupportedError } from "../../src/errors.js";
import { convertIndex, convertManifest } from "../../src/manifest/convert-manifest.js";
import type { ImageIndex, ImageManifest } from "../../src/manifest/manifest-types.js";
import * as T from "../../src/manifest/media-types.js";
import { parseManifest } from "../../src/manifest/parse-manifest.js";

const D = (c: string): string => `sha256:${c.repeat(64)}`;

const ociManifest: ImageManifest = {
  schemaVersion: 2,
  mediaType: T.OCI_MANIFEST,
  config: { mediaType: T.OCI_CONFIG, digest: D("a"), size: 10 },
  layers: [
    { mediaType: T.OCI_LAYER_GZIP, digest: D("b"), size: 20, annotations: { "org.example": "x" } },
    { mediaType: T.OCI_LAYER_TAR, digest: D("c"), size: 30 },
    { mediaType: T.OCI_LAYER_NONDIST_GZIP, digest: D("d"), size: 40, urls: ["https://example.com/d"] },
  ],
  annotations: { "org.opencontainers.image.created": "2024" },
};

describe("convertManifest", () => {
  it("OCI -> Docker maps config and layer types, keeps urls, drops annotations", () => {
    const docker = convertManifest(ociManifest, "docker", "m");
    assert.deepEqual(docker, {
      schemaVersion: 2,
      mediaType: T.DOCKER_MANIFEST,
      config: { mediaType: T.DOCKER_CONFIG, size: 10, digest: D("a") },
      layers: [
        { mediaType: T.DOCKER_LAYER_GZIP, size: 20, digest: D("b") },
        { mediaType: T.DOCKER_LAYER_TAR, size: 30, digest: D("c") },
        { mediaType: T.DOCKER_FOREIGN_LAYER_GZIP, size: 40, digest: D("d"), urls: ["https://example.com/d"] },
      ],
    });
    // The result is a valid Docker manifest, and the field order is Docker's (mediaType, size, digest).
    const again = parseManifest(Buffer.from(JSON.stringify(docker)), undefined, "m");
    assert.equal(again.mediaType, T.DOCKER_MANIFEST);
    assert.deepEqual(Object.keys(docker.layers[0]!), ["mediaType", "size", "digest"]);
  });

  it("Docker -> OCI -> Docker round-trips, and OCI keeps annotations", () => {
    const docker = convertManifest(ociManifest, "docker", "m");
    const back = convertManifest(docker, "oci", "m");
    assert.equal(back.mediaType, T.OCI_MANIFEST);
    assert.equal(back.config.mediaType, T.OCI_CONFIG);
    assert.deepEqual(back.layers.map((l) => l.mediaType), [T.OCI_LAYER_GZIP, T.OCI_LAYER_TAR, T.OCI_LAYER_NONDIST_GZIP]);
    assert.deepEqual(convertManifest(back, "docker", "m"), docker);
    assert.deepEqual(convertManifest(ociManifest, "oci", "m").annotations, ociManifest.annotations);
    assert.deepEqual(convertManifest(ociManifest, "oci", "m").layers[0]!.annotations, { "org.example": "x" });
  });

  it("refuses zstd layers and non-image configs for Docker", () => {
    const zstd = { ...ociManifest, layers: [{ mediaType: T.OCI_LAYER_ZSTD, digest: D("e"), size: 1 }] };
    assert.throws(() => convertManifest(zstd, "docker", "manifest of x"), (err: Error) => err instanceof UnsupportedError && /manifest of x: layers\[0\]: a Docker v2s2 manifest cannot describe a zstd-compressed layer/.test(err.message));
    const artifact = { ...ociManifest, config: { mediaType: "application/vnd.example.config+json", digest: D("a"), size: 2 } };
    assert.throws(() => convertManifest(artifact, "docker", "m"), /not an image config/);
    const helm = { ...ociManifest, layers: [{ mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", digest: D("e"), size: 1 }] };
    assert.throws(() => convertManifest(helm, "docker", "m"), /helm.*cannot describe/);
    assert.equal(convertManifest(helm, "oci", "m").layers[0]!.mediaType, "application/vnd.cncf.helm.chart.content.v1.tar+gzip");
  });
});

describe("convertIndex", () => {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: T.OCI_INDEX,
    manifests: [
      { mediaType: T.OCI_MANIFEST, digest: D("1"), size: 100, platform: { architecture: "arm", os: "linux", variant: "v7" }, annotations: { a: "b" } },
      { mediaType: T.OCI_MANIFEST, digest: D("2"), size: 200, platform: { architecture: "amd64", os: "linux" } },
    ],
    annotations: { x: "y" },
  };

  it("OCI index <-> Docker list maps entry types and keeps platforms", () => {
    const list = convertIndex(index, "docker", "i");
    assert.equal(list.mediaType, T.DOCKER_LIST);
    assert.deepEqual(list.manifests[0], { mediaType: T.DOCKER_MANIFEST, size: 100, digest: D("1"), platform: { architecture: "arm", os: "linux", variant: "v7" } });
    assert.equal(list.annotations, undefined);
    assert.equal(parseManifest(Buffer.from(JSON.stringify(list)), undefined, "i").mediaType, T.DOCKER_LIST);
    const back = convertIndex(list, "oci", "i");
    assert.equal(back.mediaType, T.OCI_INDEX);
    assert.deepEqual(back.manifests.map((m) => m.mediaType), [T.OCI_MANIFEST, T.OCI_MANIFEST]);
  });

  it("refuses a Docker list entry without a platform", () => {
    const noPlatform = { ...index, manifests: [{ mediaType: T.OCI_MANIFEST, digest: D("1"), size: 1 }] };
    assert.throws(() => convertIndex(noPlatform, "docker", "index of x"), /index of x: manifests\[0\] .* has no platform/);
  });
});
