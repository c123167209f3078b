import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST } from "../../../src/manifest/media-types.js";
import { run } from "../../helpers/tools.js";
import dirTransport from "../../../transports/dir/index.js";
import { buildScratchImages, expectError, hashStream, sha256Hex, skopeoCopy, type ManifestJson, type ScratchImages } from "../scratch-images.js";

let fx: ScratchImages;
let image: string; // dir: copy of x:2 by skopeo (OCI manifest, uncompressed layers)
let docker: string; // dir: copy of x:2 by skopeo as Docker v2s2

before(async () => {
  fx = await buildScratchImages();
  image = join(fx.dir, "image");
  docker = join(fx.dir, "docker");
  await skopeoCopy(fx.ref(2), `dir:${image}`);
  await skopeoCopy(fx.ref(2), `dir:${docker}`, ["--format", "v2s2"]);
});
after(() => fx?.cleanup());

const open = (path: string) => dirTransport.parseReference(path).newImageSource({});

test("manifest and blobs are what skopeo wrote; blobs hash to their digests", async () => {
  for (const [dir, type] of [[image, OCI_MANIFEST], [docker, DOCKER_MANIFEST]] as const) {
    const src = await open(dir);
    const { bytes, mediaType } = await src.getManifest();
    assert.equal(mediaType, type);
    assert.equal(Buffer.from(bytes).toString("utf8"), (await run("skopeo", ["inspect", "--raw", `dir:${dir}`])).stdout);
    const m = JSON.parse(Buffer.from(bytes).toString("utf8")) as ManifestJson;
    for (const info of [m.config, ...m.layers]) {
      const { stream, size } = await src.getBlob(info);
      assert.equal(size, info.size);
      assert.deepEqual(await hashStream(stream), { digest: info.digest, size: info.size });
    }
    assert.deepEqual(await src.getSignatures?.(), []);
    await src.close();
  }
});

test("a manifest without mediaType: the type is guessed from its fields", async () => {
  const copy = join(fx.dir, "no-media-type");
  await run("cp", ["-a", image, copy]);
  const m = JSON.parse(await readFile(join(copy, "manifest.json"), "utf8")) as Record<string, unknown>;
  delete m.mediaType;
  await writeFile(join(copy, "manifest.json"), JSON.stringify(m));
  assert.equal((await (await open(copy)).getManifest()).mediaType, OCI_MANIFEST);
  await writeFile(join(copy, "manifest.json"), JSON.stringify({ schemaVersion: 2, manifests: [] }));
  assert.equal((await (await open(copy)).getManifest()).mediaType, OCI_INDEX);
});

test("signatures and per-instance manifests of a list", async () => {
  const copy = join(fx.dir, "with-list");
  await run("cp", ["-a", image, copy]);
  const inner = await readFile(join(copy, "manifest.json"));
  const instance = `sha256:${sha256Hex(inner)}`;
  await writeFile(join(copy, `${sha256Hex(inner)}.manifest.json`), inner);
  await writeFile(join(copy, "signature-1"), "sig one");
  await writeFile(join(copy, "signature-2"), "sig two");
  await writeFile(join(copy, `${sha256Hex(inner)}.signature-1`), "instance sig");
  const src = await open(copy);
  assert.deepEqual((await src.getManifest(instance)).bytes, inner);
  assert.deepEqual((await src.getSignatures!()).map((s) => Buffer.from(s).toString()), ["sig one", "sig two"]);
  assert.deepEqual((await src.getSignatures!(instance)).map((s) => Buffer.from(s).toString()), ["instance sig"]);
  await expectError(src.getManifest(`sha256:${"a".repeat(64)}`), "ENOTFOUND", /manifest sha256:a+/);
});

test("the version file is checked", async () => {
  const copy = join(fx.dir, "future");
  await run("cp", ["-a", image, copy]);
  await writeFile(join(copy, "version"), "Directory Transport Version: 9.9\n");
  await expectError(open(copy), "EUNSUPPORTED", /version.*9\.9.*expected/);
  await expectError(open(join(fx.dir, "missing")), "ENOTFOUND", /no such file/);
  await expectError(open(fx.dir), "ENOTFOUND", /manifest/);
});

test("hostile digests never become paths", async () => {
  const src = await open(image);
  await writeFile(join(fx.dir, "secret"), "s");
  await expectError(src.getBlob({ digest: "sha256:../secret", size: -1 }), "ECORRUPT", /not a sha256 digest/);
  await expectError(src.getBlob({ digest: "../../etc/passwd", size: -1 }), "ECORRUPT", /not a sha256 digest/);
  await expectError(src.getManifest("sha256:../../secret"), "ECORRUPT", /not a sha256 digest/);
  await expectError(src.getBlob({ digest: `sha256:${"0".repeat(64)}`, size: -1 }), "ENOTFOUND", /blob sha256:0+/);
});
