import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseLayerOperation, compressionAfter, outputLayerMediaType, type CompressionChoice } from "../../src/copy/layer-plan.js";
import { UnsupportedError } from "../../src/errors.js";
import * as T from "../../src/manifest/media-types.js";

const choice = (wish: CompressionChoice["wish"], algorithm: "gzip" | "zstd" = "gzip", explicitAlgorithm = false): CompressionChoice => ({ wish, algorithm, explicitAlgorithm });

describe("layer plan", () => {
  it("chooses what to do with a layer's bytes", () => {
    assert.equal(chooseLayerOperation("none", choice("preserve"), "l"), "keep");
    assert.equal(chooseLayerOperation("bzip2", choice("preserve"), "l"), "keep");
    assert.equal(chooseLayerOperation("none", choice("compress"), "l"), "compress");
    assert.equal(chooseLayerOperation("gzip", choice("compress"), "l"), "keep");
    assert.equal(chooseLayerOperation("zstd", choice("compress"), "l"), "keep", "an unnamed algorithm keeps what is there");
    assert.equal(chooseLayerOperation("gzip", choice("compress", "zstd", true), "l"), "recompress");
    assert.equal(chooseLayerOperation("zstd", choice("compress", "zstd", true), "l"), "keep");
    assert.equal(chooseLayerOperation("gzip", choice("decompress"), "l"), "decompress");
    assert.equal(chooseLayerOperation("none", choice("decompress"), "l"), "keep");
    assert.throws(() => chooseLayerOperation("xz", choice("decompress"), "layer sha256:1 of x"), (err: Error) => err instanceof UnsupportedError && /^layer sha256:1 of x: the layer is xz-compressed/.test(err.message));
  });

  it("gives the compression after the operation", () => {
    assert.equal(compressionAfter("gzip", "keep", "zstd"), "gzip");
    assert.equal(compressionAfter("gzip", "decompress", "zstd"), "none");
    assert.equal(compressionAfter("none", "compress", "zstd"), "zstd");
  });

  it("gives output media types that match format and compression", () => {
    assert.equal(outputLayerMediaType(T.DOCKER_LAYER_GZIP, "docker", "docker", "keep", "none", "l"), T.DOCKER_LAYER_GZIP, "kept bytes keep their type");
    assert.equal(outputLayerMediaType(T.DOCKER_LAYER_GZIP, "docker", "oci", "keep", "none", "l"), T.OCI_LAYER_TAR, "a conversion uses the real compression");
    assert.equal(outputLayerMediaType(T.OCI_LAYER_TAR, "oci", "oci", "compress", "zstd", "l"), T.OCI_LAYER_ZSTD);
    assert.equal(outputLayerMediaType(T.OCI_LAYER_NONDIST_GZIP, "oci", "docker", "decompress", "none", "l"), T.DOCKER_FOREIGN_LAYER_TAR);
    assert.equal(outputLayerMediaType("application/vnd.example", "oci", "oci", "keep", "gzip", "l"), "application/vnd.example");
    assert.throws(() => outputLayerMediaType(T.OCI_LAYER_TAR, "oci", "docker", "compress", "zstd", "l"), UnsupportedError);
    assert.throws(() => outputLayerMediaType("application/vnd.example", "oci", "docker", "keep", "none", "l"), /cannot be described by a Docker v2s2 manifest/);
  });
});
