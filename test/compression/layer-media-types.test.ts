import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compressionOfMediaType, describeLayerMediaType, layerMediaType, mapLayerMediaType } from "../../src/compression/layer-media-types.js";
import { UnsupportedError } from "../../src/errors.js";
import * as T from "../../src/manifest/media-types.js";

describe("layer media types", () => {
  it("map compression to types and back for both formats", () => {
    assert.equal(layerMediaType("oci", "zstd"), T.OCI_LAYER_ZSTD);
    assert.equal(layerMediaType("oci", "none", false), T.OCI_LAYER_NONDIST_TAR);
    assert.equal(layerMediaType("docker", "gzip"), T.DOCKER_LAYER_GZIP);
    assert.equal(layerMediaType("docker", "none", false), T.DOCKER_FOREIGN_LAYER_TAR);
    assert.equal(compressionOfMediaType(T.DOCKER_LAYER_GZIP), "gzip");
    assert.equal(compressionOfMediaType(T.OCI_LAYER_TAR), "none");
    assert.equal(compressionOfMediaType("application/vnd.example"), undefined);
    assert.deepEqual(describeLayerMediaType(T.DOCKER_FOREIGN_LAYER_GZIP), { format: "docker", compression: "gzip", distributable: false });
  });

  it("convert between formats; Docker has no zstd", () => {
    assert.equal(mapLayerMediaType(T.OCI_LAYER_GZIP, "docker"), T.DOCKER_LAYER_GZIP);
    assert.equal(mapLayerMediaType(T.DOCKER_FOREIGN_LAYER_GZIP, "oci"), T.OCI_LAYER_NONDIST_GZIP);
    assert.equal(mapLayerMediaType(T.OCI_LAYER_TAR, "oci"), T.OCI_LAYER_TAR);
    assert.equal(mapLayerMediaType("application/vnd.example", "oci"), undefined);
    assert.throws(() => mapLayerMediaType(T.OCI_LAYER_ZSTD, "docker", "layer x"), (err: Error) => err instanceof UnsupportedError && /^layer x: a Docker v2s2 manifest cannot describe a zstd-compressed layer/.test(err.message));
  });
});
