import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha256 } from "../../src/digest.js";
import { CorruptInputError } from "../../src/errors.js";
import { buildImageManifest, encodeManifest } from "../../src/manifest/build-manifest.js";
import { configWithDiffIds, parseImageConfig } from "../../src/manifest/image-config.js";
import * as T from "../../src/manifest/media-types.js";
import { parseManifest } from "../../src/manifest/parse-manifest.js";

const D = (c: string): string => `sha256:${c.repeat(64)}`;

describe("buildImageManifest", () => {
  it("builds a valid manifest of either format from the same descriptors", () => {
    const config = { mediaType: T.OCI_CONFIG, digest: D("a"), size: 5 };
    const layers = [{ mediaType: T.DOCKER_LAYER_GZIP, digest: D("b"), size: 6 }];
    const oci = buildImageManifest("oci", config, layers, { k: "v" });
    assert.equal(oci.layers[0]!.mediaType, T.OCI_LAYER_GZIP, "a Docker layer type becomes OCI's");
    assert.deepEqual(oci.annotations, { k: "v" });
    const encoded = encodeManifest(oci, T.OCI_MANIFEST);
    assert.equal(encoded.digest, sha256(encoded.bytes));
    assert.equal(parseManifest(encoded.bytes, undefined, "m").mediaType, T.OCI_MANIFEST);
    const docker = buildImageManifest("docker", config, layers);
    assert.equal(docker.config.mediaType, T.DOCKER_CONFIG);
    assert.equal(docker.mediaType, T.DOCKER_MANIFEST);
    assert.equal(Buffer.from(encodeManifest(docker, T.DOCKER_MANIFEST).bytes).toString().startsWith('{"schemaVersion":2,"mediaType":'), true);
  });
});

describe("image config", () => {
  const config = { architecture: "amd64", os: "linux", config: { Env: ["A=b"] }, rootfs: { type: "layers", diff_ids: [D("1"), D("2")] }, extra: 1 };

  it("reads diff_ids and runtime settings; rewrites diff_ids keeping the rest", () => {
    const parsed = parseImageConfig(Buffer.from(JSON.stringify(config)), "config of x");
    assert.deepEqual(parsed.diffIds, [D("1"), D("2")]);
    assert.deepEqual(parsed.runtime, { Env: ["A=b"] });
    const rewritten = JSON.parse(Buffer.from(configWithDiffIds(parsed, [D("3"), D("4")])).toString()) as typeof config;
    assert.deepEqual(rewritten, { ...config, rootfs: { type: "layers", diff_ids: [D("3"), D("4")] } });
  });

  it("names a bad diff_id", () => {
    const bad = { ...config, rootfs: { type: "layers", diff_ids: [D("1"), "sha256:zz"] } };
    assert.throws(() => parseImageConfig(Buffer.from(JSON.stringify(bad)), "config of x"), (err: Error) => err instanceof CorruptInputError && /^config of x: rootfs\.diff_ids\[1\] is not a digest/.test(err.message));
    assert.throws(() => parseImageConfig(Buffer.from("{}"), "config of x"), /config of x: rootfs is missing/);
  });
});
