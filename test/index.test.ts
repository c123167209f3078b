// The library entry point: what a program or a plugin author imports from "imgcopy".
import assert from "node:assert/strict";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import * as imgcopy from "../src/index.js";
import type { ImageReference, ImageSource, ImageTransport, ProgressEvent } from "../src/index.js";
import { skopeoCopy, skopeoInspect } from "./helpers/buildah-store.js";
import { run, tempDir } from "./helpers/tools.js";

let work: { path: string; cleanup: () => Promise<void> };
let layer: Buffer;

before(async () => {
  work = await tempDir();
  // A real layer tar, made by the real tar tool.
  await writeFile(join(work.path, "hello.txt"), "hello from a memory transport\n");
  await run("tar", ["--format=posix", "-cf", join(work.path, "layer.tar"), "-C", work.path, "hello.txt"]);
  layer = await readFile(join(work.path, "layer.tar"));
});
after(async () => {
  await work.cleanup();
});

/** A transport a program registers itself: one image held in memory. */
function memoryTransport(): ImageTransport {
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [imgcopy.sha256(layer)] }, history: [{ created_by: "memory" }] }),
  );
  const blobs = new Map([[imgcopy.sha256(config), config], [imgcopy.sha256(layer), layer]]);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: imgcopy.OCI_MANIFEST,
      config: { mediaType: imgcopy.OCI_CONFIG, digest: imgcopy.sha256(config), size: config.length },
      layers: [{ mediaType: imgcopy.OCI_LAYER_TAR, digest: imgcopy.sha256(layer), size: layer.length }],
    }),
  );
  const transport: ImageTransport = {
    name: "memory-test",
    parseReference(rest) {
      if (rest !== "image") throw new imgcopy.BadReferenceError(`memory-test:${rest}: only "memory-test:image" exists`);
      const ref: ImageReference = {
        transport,
        toString: () => "memory-test:image",
        newImageSource: async (): Promise<ImageSource> => ({
          reference: ref,
          getManifest: async () => ({ bytes: manifest, mediaType: imgcopy.OCI_MANIFEST }),
          getBlob: async (info) => {
            const bytes = blobs.get(info.digest);
            if (!bytes) throw new imgcopy.NotFoundError(`memory-test: no blob ${info.digest}`);
            return { stream: Readable.from([bytes]), size: bytes.length };
          },
          close: async () => {},
        }),
        newImageDestination: async () => {
          throw new imgcopy.UnsupportedError("memory-test:image is read-only");
        },
      };
      return ref;
    },
  };
  return transport;
}

describe("the library entry point", () => {
  it("exports the API version, registry, errors, digests and media types", () => {
    assert.equal(imgcopy.IMGCOPY_API_VERSION, "1.0.0");
    assert.equal(typeof imgcopy.TransportRegistry, "function");
    assert.equal(typeof imgcopy.loadPlugins, "function");
    assert.ok(imgcopy.isImgcopyError(new imgcopy.PluginError("x")));
    assert.equal(imgcopy.EXIT_CODES.EPLUGIN, 7);
    assert.equal(imgcopy.isDigest(imgcopy.sha256("")), true);
    assert.equal(imgcopy.OCI_INDEX, "application/vnd.oci.image.index.v1+json");
  });

  it("parseReference loads the bundled plugins on first use", async () => {
    const ref = await imgcopy.parseReference(`oci:${join(work.path, "layout")}:tag`);
    assert.equal(ref.transport.name, "oci");
    assert.ok(imgcopy.defaultRegistry.has("container-copy"));
    await assert.rejects(imgcopy.parseReference("nope:x"), (e: Error) => imgcopy.isImgcopyError(e) && e.code === "EBADREF");
  });

  it("skips a refused plugin, and parseReference explains its transport with the plugin's reason", async () => {
    const incompatible = fileURLToPath(new URL("./fixtures/plugins/incompatible-api", import.meta.url));
    const warnings: string[] = [];
    assert.deepEqual(imgcopy.loadPlugins({ paths: [incompatible], bundled: false, user: false, warn: (m) => warnings.push(m) }), []);
    assert.equal(warnings.length, 1);
    assert.ok(imgcopy.refusedPlugins().some((p) => p.name === "future-plugin" && p.transports.includes("future")));
    await assert.rejects(
      imgcopy.parseReference("future:x"),
      (e: Error) => e instanceof imgcopy.PluginError && e.code === "EPLUGIN" && /transport "future" is not available: .*requires imgcopy plugin API/.test(e.message),
    );
    assert.ok((await imgcopy.parseReference(`dir:${work.path}`)).toString().startsWith("dir:"), "other transports still parse");
  });

  it("copies from a registered transport into an OCI layout that skopeo reads, reporting progress", async () => {
    imgcopy.registerTransport(memoryTransport(), { description: "test images in memory" });
    assert.throws(() => imgcopy.registerTransport(memoryTransport()), /declared twice/);
    const events: ProgressEvent[] = [];
    const dest = `oci:${join(work.path, "layout")}:v1`;
    const result = await imgcopy.copyImage("memory-test:image", dest, { onProgress: (e) => events.push(e) });
    assert.equal(result.manifestDigest, imgcopy.sha256(result.manifest));
    assert.equal((await skopeoInspect(dest)).Digest, result.manifestDigest);
    await skopeoCopy(dest, `dir:${join(work.path, "checked")}`); // skopeo verifies every blob
    assert.ok(events.some((e) => e.kind === "blob" && e.state === "done"));
    assert.ok(events.some((e) => e.kind === "manifest"));

    const summary = await imgcopy.inspectImage(dest);
    assert.equal(summary.kind, "json");
  });

  it("an aborted signal cancels the copy and leaves no destination", async () => {
    const controller = new AbortController();
    controller.abort();
    const out = join(work.path, "never");
    await assert.rejects(imgcopy.copyImage("memory-test:image", `dir:${out}`, { signal: controller.signal }), (e: Error) => imgcopy.isImgcopyError(e) && e.code === "EABORT");
    assert.ok(!(await readdir(work.path)).includes("never"));
  });
});
