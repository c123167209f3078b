import assert from "node:assert/strict";
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { DigestMismatchError } from "../../../src/errors.js";
import { DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST } from "../../../src/manifest/media-types.js";
import { run } from "../../helpers/tools.js";
import ociTransport from "../../../transports/oci/index.js";
import { buildScratchImages, expectError, expectRefusedUntouched, feedImage, HELLO, SECOND, sha256Hex, skopeoCopy, skopeoInspect, snapshotTree, type FeedOptions, type ScratchImages } from "../scratch-images.js";

let fx: ScratchImages;
let src1: string; // oci layout of x:1 (skopeo)
let src2: string; // oci layout of x:2 (skopeo)
let n = 0;
const fresh = () => join(fx.dir, `out-${++n}`);

before(async () => {
  fx = await buildScratchImages();
  src1 = join(fx.dir, "src1");
  src2 = join(fx.dir, "src2");
  await skopeoCopy(fx.ref(1), `oci:${src1}`);
  await skopeoCopy(fx.ref(2), `oci:${src2}`);
});
after(() => fx?.cleanup());

const ref = (rest: string) => ociTransport.parseReference(rest);

async function copyImage(from: string, to: string, opts: FeedOptions = {}) {
  const src = await ref(from).newImageSource({});
  const dest = await ref(to).newImageDestination({});
  try {
    return await feedImage(src, dest, opts);
  } finally {
    await dest.close();
    await src.close();
  }
}

interface IndexJson {
  manifests: { digest: string; mediaType: string; size: number; annotations?: Record<string, string>; platform?: unknown }[];
}
const readIndex = async (layout: string) => JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as IndexJson;
const refs = (index: IndexJson) => index.manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"] ?? "");

test("a copy into a new layout: skopeo inspects it and umoci unpacks it", async () => {
  const out = fresh();
  const { manifestBytes } = await copyImage(src2, `${out}:tag`);
  const digest = `sha256:${sha256Hex(manifestBytes)}`;
  const index = await readIndex(out);
  assert.deepEqual(index.manifests, [
    {
      mediaType: OCI_MANIFEST,
      digest,
      size: manifestBytes.length,
      annotations: { "org.opencontainers.image.ref.name": "tag" },
      platform: { architecture: "amd64", os: "linux" },
    },
  ]);
  assert.deepEqual(JSON.parse(await readFile(join(out, "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });
  assert.deepEqual((await readdir(out)).sort(), ["blobs", "index.json", "oci-layout"], "no lock or temp files left");
  const inspected = await skopeoInspect(`oci:${out}:tag`);
  assert.equal(inspected.Digest, digest);
  assert.equal((inspected.Layers as string[]).length, 2);
  assert.deepEqual(inspected.Env, ["GREETING=hello"]);
  const bundle = join(fx.dir, "bundle");
  await run("umoci", ["unpack", "--image", `${out}:tag`, bundle]);
  assert.equal(await readFile(join(bundle, "rootfs", "etc", "hello"), "utf8"), HELLO);
  assert.equal(await readFile(join(bundle, "rootfs", "two"), "utf8"), SECOND);
});

test("a second tag keeps the first; blobs already present are reused, not rewritten", async () => {
  const out = fresh();
  await copyImage(src2, `${out}:two`);
  const first = await copyImage(src1, `${out}:one`);
  assert.equal(first.reused.length, 1, "x:1's layer is x:2's first layer: already in the layout");
  assert.equal(first.written.length, 1, "only x:1's config is new");
  assert.deepEqual(refs(await readIndex(out)).sort(), ["one", "two"]);
  assert.equal((await skopeoInspect(`oci:${out}:one`)).Digest, `sha256:${sha256Hex(first.manifestBytes)}`);
});

test("writing a REF again moves it; the same untagged image twice is one entry; naming it replaces that entry", async () => {
  const out = fresh();
  await copyImage(src2, `${out}:latest`);
  const again = await copyImage(src1, `${out}:latest`);
  let index = await readIndex(out);
  assert.deepEqual(refs(index), ["latest"]);
  assert.equal(index.manifests[0]!.digest, `sha256:${sha256Hex(again.manifestBytes)}`);
  await copyImage(src2, out);
  await copyImage(src2, out);
  index = await readIndex(out);
  assert.deepEqual(refs(index), ["latest", ""], "the same untagged image twice is one entry");
  await copyImage(src2, `${out}:named`);
  assert.deepEqual(refs(await readIndex(out)), ["latest", "named"], "naming an untagged image replaces its entry");
});

test("a directory that is not an OCI layout is refused and left untouched", async () => {
  const precious = fresh();
  const files = { "notes.txt": "my files\n", "index.json": "{}" };
  await expectRefusedUntouched(precious, files, () => ref(`${precious}:x`).newImageDestination({}), /not empty and is not an OCI image layout/);
  const file = join(fx.dir, "a-file");
  await writeFile(file, "x");
  await expectError(ref(file).newImageDestination({}), "EUNSUPPORTED", /not a directory/);
  assert.equal(await readFile(file, "utf8"), "x");
});

test("close without commit leaves an existing layout byte-identical", async () => {
  const out = fresh();
  await copyImage(src1, `${out}:one`);
  const before = await snapshotTree(out);
  const extra = Buffer.from("a blob only this abandoned copy wrote\n");
  const { written } = await copyImage(src2, `${out}:two`, {
    noCommit: true,
    editManifest: (m) => ({ ...m, annotations: { why: "abandoned" } }),
  });
  assert.ok(written.length >= 2, "the copy wrote blobs before it was abandoned");
  const dest = await ref(`${out}:three`).newImageDestination({});
  await dest.putBlob(Readable.from([extra]), { digest: "sha256:0", size: -1, placeholder: true }, { isConfig: false });
  await dest.close();
  await dest.close();
  assert.deepEqual(await snapshotTree(out), before);
});

test("close without commit removes a layout this copy created", async () => {
  const out = fresh();
  await copyImage(src2, `${out}:t`, { noCommit: true });
  await assert.rejects(stat(out), { code: "ENOENT" });
  await assert.rejects(copyImage(src2, `${join(fresh(), "nested", "layout")}:t`, { noCommit: true }), /nested does not exist/, "a missing parent is refused");
});

test("putBlob: sizes are checked, placeholders are computed, hostile digests refused, the engine's digests not hashed again", async () => {
  const out = fresh();
  await copyImage(src1, `${out}:one`);
  const before = await snapshotTree(out);
  const dest = await ref(`${out}:x`).newImageDestination({});
  const bytes = Buffer.from("some layer bytes");
  const digest = `sha256:${sha256Hex(bytes)}`;
  // A placeholder's digest computed by the engine while streaming is taken as it is (one hash per byte).
  const engineDigest = `sha256:${"1".repeat(64)}`;
  const streamDigest = { digest: () => engineDigest, size: bytes.length };
  const trusted = await dest.putBlob(Readable.from([bytes]), { digest: "sha256:0", size: -1, placeholder: true }, { isConfig: false, streamDigest });
  assert.equal(trusted.digest, engineDigest);
  await expectError(dest.putBlob(Readable.from([bytes]), { digest, size: 3 }, { isConfig: false }), "EDIGEST", /size 3/);
  await expectError(dest.putBlob(Readable.from([bytes]), { digest: "sha256:../../../evil", size: 1 }, { isConfig: false }), "ECORRUPT", /not a sha256 digest/);
  assert.equal(await dest.tryReusingBlob({ digest: "sha256:../../index.json", size: -1 }), undefined);
  const stored = await dest.putBlob(Readable.from([bytes]), { digest: "sha256:0", size: -1, placeholder: true }, { isConfig: false });
  assert.deepEqual([stored.digest, stored.size, stored.placeholder], [digest, bytes.length, undefined]);
  assert.equal(await readFile(join(out, "blobs", "sha256", sha256Hex(bytes)), "utf8"), "some layer bytes");
  assert.deepEqual(await dest.tryReusingBlob({ digest, size: bytes.length }), { digest, size: bytes.length });
  assert.equal(await dest.tryReusingBlob({ digest, size: 99 }), undefined, "a size mismatch is not reused");
  await dest.close();
  assert.deepEqual(await snapshotTree(out), before);
});

test("putBlobFromFile: the copy is verified before it is renamed into blobs/; a refused copy leaves nothing; mode 0644", async () => {
  const out = fresh();
  await copyImage(src1, `${out}:one`);
  const before = await snapshotTree(out);
  const source = join(fx.dir, `file-blob-${n}`);
  const bytes = Buffer.from("a layer kept as it is\n".repeat(1000));
  await writeFile(source, bytes, { mode: 0o600 });
  const digest = `sha256:${sha256Hex(bytes)}`;
  const final = join(out, "blobs", "sha256", sha256Hex(bytes));
  const dest = await ref(`${out}:x`).newImageDestination({});
  const checked: string[] = [];
  const verify = async (copy: string) => {
    assert.notEqual(copy, final);
    await assert.rejects(stat(final), { code: "ENOENT" }, "not in blobs/ before it is verified");
    assert.deepEqual(await readFile(copy), bytes, "verify sees the whole copy");
    checked.push(copy);
  };
  const refuse = async () => {
    throw new DigestMismatchError("refused by the engine", "sha256:1", "sha256:2");
  };
  await assert.rejects(dest.putBlobFromFile!(source, { digest, size: bytes.length }, { isConfig: false, verify: refuse }), DigestMismatchError);
  assert.deepEqual(await snapshotTree(out), before, "a refused copy leaves no blob and no temp file");
  await expectError(dest.putBlobFromFile!(source, { digest, size: 3 }, { isConfig: false, verify: async () => undefined }), "EDIGEST", /size 3/);
  await expectError(dest.putBlobFromFile!(source, { digest: "sha256:../../evil", size: 1 }, { isConfig: false, verify }), "ECORRUPT", /not a sha256 digest/);
  assert.deepEqual(await snapshotTree(out), before);
  const stored = await dest.putBlobFromFile!(source, { digest, size: bytes.length }, { isConfig: false, verify });
  assert.deepEqual([stored.digest, stored.size, checked.length], [digest, bytes.length, 1]);
  assert.deepEqual(await readFile(final), bytes);
  assert.equal((await stat(final)).mode & 0o777, 0o644 & ~process.umask(), "the source's mode 0600 is not copied");
  assert.deepEqual(await dest.tryReusingBlob({ digest, size: bytes.length }), { digest, size: bytes.length });
  await dest.close();
  assert.deepEqual(await snapshotTree(out), before, "close without commit removes the blob it added");
});

test("manifest types and compression wishes", async () => {
  const dest = await ref(`${fresh()}:t`).newImageDestination({});
  assert.deepEqual(dest.supportedManifestTypes(), [OCI_MANIFEST, OCI_INDEX]);
  assert.equal(dest.desiredLayerCompression(), "compress");
  assert.equal(dest.hasThreadSafePutBlob(), true);
  await expectError(dest.putManifest(Buffer.from("{}"), DOCKER_MANIFEST), "EUNSUPPORTED", /not application\/vnd\.docker/);
  await expectError(dest.commit(), "EUNSUPPORTED", /before any manifest/);
  await dest.close();
  const keep = await ref(`${fresh()}:t`).newImageDestination({ ociAcceptUncompressedLayers: true });
  assert.equal(keep.desiredLayerCompression(), "preserve");
  await keep.close();
});

test("an index and its members: the index gets the REF, members are only blobs", async () => {
  const out = fresh();
  const src = await ref(src2).newImageSource({});
  const dest = await ref(`${out}:multi`).newImageDestination({});
  const child = await feedImage(src, dest, { noCommit: true });
  const childDigest = `sha256:${sha256Hex(child.manifestBytes)}`;
  const member = { mediaType: OCI_MANIFEST, digest: childDigest, size: child.manifestBytes.length, platform: { os: "linux", architecture: "amd64" } };
  // feedImage wrote the member as the top-level manifest; an engine would pass its instance digest.
  await dest.putManifest(child.manifestBytes, OCI_MANIFEST, childDigest);
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [member] }));
  await dest.putManifest(index, OCI_INDEX);
  await dest.commit();
  await dest.close();
  const written = await readIndex(out);
  assert.deepEqual(written.manifests.map((m) => [m.mediaType, m.digest, refs(written)[0]]), [[OCI_INDEX, `sha256:${sha256Hex(index)}`, "multi"]]);
  const inspected = await skopeoInspect(`oci:${out}:multi`, ["--raw"]);
  assert.equal(inspected.mediaType, OCI_INDEX);
  const reread = await ref(`${out}:multi`).newImageSource({});
  assert.equal((await reread.getManifest(childDigest)).mediaType, OCI_MANIFEST);
});

test("an abandoned copy never removes a blob that another copy committed; a commit never references a removed blob", async () => {
  const out = fresh();
  await copyImage(src1, `${out}:one`);
  const src = await ref(src2).newImageSource({});
  const abandoned = await ref(`${out}:a`).newImageDestination({});
  const { written } = await feedImage(src, abandoned, { noCommit: true, editManifest: (m) => ({ ...m, annotations: { a: "1" } }) });
  assert.ok(written.length >= 2);
  const winner = await ref(`${out}:b`).newImageDestination({});
  const { reused } = await feedImage(src, winner);
  assert.ok(written.every((d) => reused.includes(d)), "the second copy reused what the first had written");
  await abandoned.close();
  await winner.close();
  const reread = await ref(`${out}:b`).newImageSource({});
  const m = JSON.parse(Buffer.from((await reread.getManifest()).bytes).toString("utf8")) as { layers: { digest: string }[] };
  for (const l of m.layers) await stat(join(out, "blobs", "sha256", l.digest.slice("sha256:".length)));

  const late = await ref(`${out}:late`).newImageDestination({});
  const first = await ref(`${out}:first`).newImageDestination({});
  const bytes = Buffer.from("only the first copy wrote this");
  const info = await first.putBlob(Readable.from([bytes]), { digest: "sha256:0", size: -1, placeholder: true }, { isConfig: false });
  assert.ok(await late.tryReusingBlob(info));
  await late.putManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [info] })), OCI_MANIFEST);
  await first.close();
  await expectError(late.commit(), "ENOTFOUND", /removed from the layout by another writer.*retry/);
  await late.close();
  assert.deepEqual(refs(await readIndex(out)).sort(), ["b", "one"]);
});
