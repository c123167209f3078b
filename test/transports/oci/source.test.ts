import assert from "node:assert/strict";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { OCI_INDEX, OCI_MANIFEST } from "../../../src/manifest/media-types.js";
import type { ImageSource } from "../../../src/types.js";
import { run } from "../../helpers/tools.js";
import ociTransport from "../../../transports/oci/index.js";
import { buildScratchImages, expectError, hashStream, sha256Hex, skopeoCopy, type ManifestJson, type ScratchImages } from "../scratch-images.js";

let fx: ScratchImages;
let multi: string; // tags "one" (x:1) and "two" (x:2)
let single: string; // x:2, no tag

before(async () => {
  fx = await buildScratchImages();
  multi = join(fx.dir, "multi");
  single = join(fx.dir, "single");
  await skopeoCopy(fx.ref(1), `oci:${multi}:one`);
  await skopeoCopy(fx.ref(2), `oci:${multi}:two`);
  await skopeoCopy(fx.ref(2), `oci:${single}`);
});
after(() => fx?.cleanup());

const open = (rest: string) => ociTransport.parseReference(rest).newImageSource({});

async function rawManifest(ref: string): Promise<string> {
  return (await run("skopeo", ["inspect", "--raw", ref])).stdout;
}

/** Reads every blob of the image and checks digest and size by hashing. */
async function checkBlobs(src: ImageSource): Promise<number> {
  const m = JSON.parse(Buffer.from((await src.getManifest()).bytes).toString("utf8")) as ManifestJson;
  const infos = [m.config, ...m.layers];
  for (const info of infos) {
    const { stream, size } = await src.getBlob(info);
    assert.equal(size, info.size);
    assert.deepEqual(await hashStream(stream), { digest: info.digest, size: info.size });
  }
  return infos.length;
}

test("a layout with one image: no REF picks it; manifest and blobs are what skopeo wrote", async () => {
  const src = await open(single);
  const { bytes, mediaType } = await src.getManifest();
  assert.equal(mediaType, OCI_MANIFEST);
  assert.equal(Buffer.from(bytes).toString("utf8"), await rawManifest(`oci:${single}`));
  assert.equal(await checkBlobs(src), 3, "config and two layers");
  assert.deepEqual(await src.getSignatures?.(), []);
  await src.close();
});

test("REF picks the entry with that ref.name; @N picks by position", async () => {
  const one = await open(`${multi}:one`);
  assert.equal(Buffer.from((await one.getManifest()).bytes).toString("utf8"), await rawManifest(`oci:${multi}:one`));
  assert.equal(await checkBlobs(one), 2);
  const two = await open(`${multi}:two`);
  const at1 = await open(`${multi}:@1`);
  assert.deepEqual((await at1.getManifest()).bytes, (await two.getManifest()).bytes);
  assert.notDeepEqual((await one.getManifest()).bytes, (await two.getManifest()).bytes);
});

test("several images and no REF: an error that lists the refs", async () => {
  await expectError(open(multi), "EBADREF", /2 images.*one \(sha256:.*two \(sha256:/);
});

test("an unknown REF or @N out of range: not found, naming what there is", async () => {
  await expectError(open(`${multi}:three`), "ENOTFOUND", /no image named "three".*one.*two/);
  await expectError(open(`${multi}:@2`), "ENOTFOUND", /@2.*has 2/);
});

test("a directory that is not a layout, a missing directory, a file: not found, naming the reference", async () => {
  const empty = join(fx.dir, "not-a-layout");
  await mkdir(empty);
  await expectError(open(empty), "ENOTFOUND", /^oci:.*not-a-layout: .*not-a-layout is not an OCI image layout \(it has no oci-layout file\)$/);
  await expectError(open(`${join(fx.dir, "missing")}:tag`), "ENOTFOUND", /^oci:.*missing:tag: .*missing does not exist$/);
  const file = join(fx.dir, "a-file");
  await writeFile(file, "x");
  await expectError(open(file), "ENOTFOUND", /a-file is not a directory/);
});

test("hostile digests never become paths", async () => {
  const hostile = join(fx.dir, "hostile");
  await mkdir(join(hostile, "blobs", "sha256"), { recursive: true });
  await writeFile(join(hostile, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(fx.dir, "secret"), "{}");
  const entry = { mediaType: OCI_MANIFEST, digest: "sha256:../../../secret", size: 2 };
  await writeFile(join(hostile, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
  await expectError(open(hostile), "ECORRUPT", /not a sha256 digest/);

  const src = await open(single);
  await expectError(src.getBlob({ digest: "sha256:../../index.json", size: -1 }), "ECORRUPT", /not a sha256 digest/);
  await expectError(src.getBlob({ digest: `sha512:${"0".repeat(128)}`, size: -1 }), "ECORRUPT", /not a sha256 digest/);
  await expectError(src.getManifest("sha256:/etc/passwd"), "ECORRUPT", /not a sha256 digest/);
  await expectError(src.getBlob({ digest: `sha256:${"0".repeat(64)}`, size: -1 }), "ENOTFOUND", /blob sha256:0+/);
});

test("a manifest whose bytes do not match its digest is refused", async () => {
  const bad = join(fx.dir, "tampered");
  await run("cp", ["-a", single, bad]);
  const index = JSON.parse(await readFile(join(bad, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const hex = index.manifests[0]!.digest.slice("sha256:".length);
  const path = join(bad, "blobs", "sha256", hex);
  await writeFile(path, (await readFile(path, "utf8")).replace("schemaVersion", "schemaVersion "));
  await expectError(open(bad), "EDIGEST", /digest mismatch|size/);
});

test("an index referenced from index.json is the top-level manifest; its members are instances", async () => {
  const nested = join(fx.dir, "nested");
  await run("cp", ["-a", single, nested]);
  const index = JSON.parse(await readFile(join(nested, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const member = { ...index.manifests[0]!, platform: { os: "linux", architecture: "amd64" } };
  const inner = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [member] }));
  const innerHex = sha256Hex(inner);
  await writeFile(join(nested, "blobs", "sha256", innerHex), inner);
  const top = { mediaType: OCI_INDEX, digest: `sha256:${innerHex}`, size: inner.length, annotations: { "org.opencontainers.image.ref.name": "multi" } };
  await writeFile(join(nested, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [top] }));

  const src = await open(`${nested}:multi`);
  const got = await src.getManifest();
  assert.equal(got.mediaType, OCI_INDEX);
  assert.deepEqual(Buffer.from(got.bytes), inner);
  const child = await src.getManifest(member.digest);
  assert.equal(child.mediaType, OCI_MANIFEST);
  assert.equal(sha256Hex(child.bytes), member.digest.slice("sha256:".length));
});

test("a layout without its oci-layout file is read, with a warning, as skopeo reads it", async () => {
  const bare = join(fx.dir, "no-oci-layout");
  await run("cp", ["-a", single.replace(/:[^/]*$/, ""), bare]);
  await rm(join(bare, "oci-layout"));
  await run("skopeo", ["inspect", `oci:${bare}`]); // skopeo reads it
  const warnings: string[] = [];
  const src = await ociTransport.parseReference(bare).newImageSource({ warn: (m) => warnings.push(m) });
  try {
    assert.ok((await src.getManifest()).bytes.length > 0);
  } finally {
    await src.close();
  }
  assert.deepEqual(warnings, [`oci:${bare}: ${bare} has no oci-layout file; reading it as an OCI image layout anyway (as skopeo does)`]);
});
