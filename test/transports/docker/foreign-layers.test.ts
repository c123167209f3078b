// Foreign (non-distributable) layers: a registry that accepts URL layers serves a manifest whose
// layer lives elsewhere; the pull fetches it from its URL, without credentials.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { copyImage } from "../../../src/copy/index.js";
import { sha256 } from "../../../src/digest.js";
import type { ImageManifest } from "../../../src/manifest/manifest-types.js";
import { OCI_LAYER_NONDIST_GZIP } from "../../../src/manifest/media-types.js";
import { parseDockerReference } from "../../../transports/docker/reference.js";
import { MemoryImage, MemoryReference } from "../../copy/memory-transport.js";
import { addImage, tarOf } from "../../copy/test-images.js";
import { startFaultProxy, type FaultProxy } from "../../helpers/fault-proxy.js";
import { startRegistry, type RegistryServer } from "../../helpers/registry-server.js";
import { tempDir } from "../../helpers/tools.js";
import { plainHttpContext, pullToOci } from "./registry-fixture.js";

describe("docker:// foreign layers", () => {
  let work: { path: string; cleanup: () => Promise<void> };
  let blobHost: RegistryServer;
  let blobFront: FaultProxy;
  let registry: RegistryServer;

  before(async () => {
    work = await tempDir("imgcopy-docker-foreign-");
    blobHost = await startRegistry();
    blobFront = await startFaultProxy({ port: blobHost.port });
    registry = await startRegistry({ allowLayerUrls: ["^http://127\\.0\\.0\\.1:"] });
  });
  after(async () => {
    await blobFront?.stop();
    await registry?.stop();
    await blobHost?.stop();
    await work?.cleanup();
  });

  it("fetches a layer the registry does not hold from its URL, without credentials", async () => {
    const ctx = plainHttpContext(work.path);
    const image = new MemoryImage();
    const built = addImage(image, {
      layers: [
        { tar: await tarOf({ a: "distributable\n" }), compression: "gzip" },
        { tar: await tarOf({ "windows/base": "foreign\n".repeat(1000) }), compression: "gzip" },
      ],
    });
    const foreign = built.manifest.layers[1]!;
    const foreignBytes = image.blobs.get(foreign.digest)!;
    // The layer's bytes live on another host (here: a second registry, reached anonymously).
    const store = await parseDockerReference(`//${blobHost.host}/store/base:1`).newImageDestination(ctx);
    await store.putBlob(Readable.from([foreignBytes]), { digest: foreign.digest, size: foreign.size }, { isConfig: false });
    await store.close();
    const url = `http://${blobFront.host}/v2/store/base/blobs/${foreign.digest}`;
    image.blobs.delete(foreign.digest);
    const manifest: ImageManifest = { ...built.manifest, layers: [built.manifest.layers[0]!, { ...foreign, mediaType: OCI_LAYER_NONDIST_GZIP, urls: [url] }] };
    const bytes = Buffer.from(JSON.stringify(manifest));
    image.manifests.set("", { bytes, mediaType: built.mediaType });

    const ref = `docker://${registry.host}/foreign/img:1`;
    const warnings: string[] = [];
    await copyImage(new MemoryReference("src", image), parseDockerReference(ref.slice("docker:".length)), { destCtx: { ...ctx, warn: (w) => warnings.push(w) } });
    assert.equal(warnings.length, 1, "the push keeps the URL reference (the source does not hold the layer)");

    const out = join(work.path, "out");
    const withCreds = { ...ctx, dockerAuth: { username: "someone", password: "secret" } };
    assert.equal(await pullToOci(ref, out, withCreds), sha256(bytes));
    assert.ok(existsSync(join(out, "blobs", "sha256", foreign.digest.slice("sha256:".length))), "the foreign layer was fetched");
    const fetched = blobFront.seen.filter((r) => r.path.includes(foreign.digest));
    assert.equal(fetched.length, 1);
    assert.equal(fetched[0]!.authorization, false);
  });
});
