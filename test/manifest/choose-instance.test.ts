import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NotFoundError } from "../../src/errors.js";
import { chooseInstance, currentPlatform, goArch } from "../../src/manifest/choose-instance.js";
import type { Descriptor, ImageIndex, Platform } from "../../src/manifest/manifest-types.js";
import { OCI_INDEX, OCI_MANIFEST } from "../../src/manifest/media-types.js";

function indexOf(platforms: Array<Platform | undefined>): ImageIndex {
  const manifests: Descriptor[] = platforms.map((platform, i) => ({
    mediaType: OCI_MANIFEST,
    digest: `sha256:${String(i).repeat(64)}`,
    size: i,
    ...(platform ? { platform } : {}),
  }));
  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
}

describe("chooseInstance", () => {
  it("maps Node's arch to GOARCH", () => {
    assert.equal(goArch("x64"), "amd64");
    assert.equal(goArch("arm64"), "arm64");
    assert.equal(goArch("ia32"), "386");
    assert.equal(goArch("mipsel"), "mipsle");
    assert.equal(currentPlatform().os, "linux");
    assert.equal(currentPlatform().architecture, goArch(process.arch));
  });

  it("picks the entry for the platform, ignoring other OSes", () => {
    const index = indexOf([{ architecture: "amd64", os: "windows" }, { architecture: "arm64", os: "linux" }, { architecture: "amd64", os: "linux" }]);
    assert.equal(chooseInstance(index, "x", { architecture: "amd64", os: "linux" }).size, 2);
    assert.equal(chooseInstance(index, "x", { architecture: "arm64", os: "linux", variant: "v8" }).size, 1, "arm64 v8 runs a variant-less image");
  });

  it("prefers the best arm variant the machine runs", () => {
    const index = indexOf([{ architecture: "arm", os: "linux", variant: "v6" }, { architecture: "arm", os: "linux", variant: "v7" }, { architecture: "arm", os: "linux", variant: "v8" }]);
    assert.equal(chooseInstance(index, "x", { architecture: "arm", os: "linux", variant: "v7" }).size, 1);
    assert.equal(chooseInstance(index, "x", { architecture: "arm", os: "linux", variant: "v6" }).size, 0);
  });

  it("falls back to an entry without a platform, else fails naming what the index has", () => {
    assert.equal(chooseInstance(indexOf([{ architecture: "s390x", os: "linux" }, undefined]), "x", { architecture: "amd64", os: "linux" }).size, 1);
    assert.throws(
      () => chooseInstance(indexOf([{ architecture: "s390x", os: "linux" }]), "manifest of oci:/a", { architecture: "amd64", os: "linux" }),
      (err: Error) => err instanceof NotFoundError && err.message === "manifest of oci:/a: no image for linux/amd64 (the index has: linux/s390x)",
    );
  });
});
