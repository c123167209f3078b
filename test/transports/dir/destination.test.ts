import assert from "node:assert/strict";
import { lstat, mkdir, readFile, readdir, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { DigestMismatchError } from "../../../src/errors.js";
import { OCI_MANIFEST } from "../../../src/manifest/media-types.js";
import { run } from "../../helpers/tools.js";
import dirTransport from "../../../transports/dir/index.js";
import ociTransport from "../../../transports/oci/index.js";
import { buildScratchImages, expectError, expectRefusedUntouched, feedImage, sha256Hex, skopeoCopy, SECOND, skopeoInspect, snapshotTree, type FeedOptions, type ScratchImages } from "../scratch-images.js";

let fx: ScratchImages;
let dir1: string; // skopeo dir: copy of x:1
let dir2: string; // skopeo dir: copy of x:2
let oci2: string; // skopeo oci copy of x:2 (gzip layers)
let work: string; // where outputs go: its listing shows any temp dir left beside an output
let n = 0;
const fresh = () => join(work, `out-${++n}`);

before(async () => {
  fx = await buildScratchImages();
  dir1 = join(fx.dir, "dir1");
  dir2 = join(fx.dir, "dir2");
  oci2 = join(fx.dir, "oci2");
  work = join(fx.dir, "outputs");
  await mkdir(work);
  await skopeoCopy(fx.ref(1), `dir:${dir1}`);
  await skopeoCopy(fx.ref(2), `dir:${dir2}`);
  await skopeoCopy(fx.ref(2), `oci:${oci2}`);
});
after(() => fx?.cleanup());

async function copyImage(from: string, to: string, opts: FeedOptions = {}) {
  const transport = from.startsWith("oci:") ? ociTransport : dirTransport;
  const src = await transport.parseReference(from.replace(/^oci:/, "")).newImageSource({});
  const dest = await dirTransport.parseReference(to).newImageDestination({});
  try {
    return await feedImage(src, dest, opts);
  } finally {
    await dest.close();
    await src.close();
  }
}

/** Names in `work` that are not outputs (temp or old dirs left behind). */
const leftovers = async () => (await readdir(work)).filter((name) => name.startsWith("."));

test("dir to dir: the same files skopeo wrote, and skopeo inspects the result", async () => {
  const out = fresh();
  const { manifestBytes } = await copyImage(dir2, out);
  assert.deepEqual(await snapshotTree(out), await snapshotTree(dir2));
  assert.equal((await skopeoInspect(`dir:${out}`)).Digest, `sha256:${sha256Hex(manifestBytes)}`);
  assert.equal(((await stat(out)).mode & 0o777).toString(8), "755");
  assert.deepEqual(await leftovers(), []);
});

test("oci to dir: compressed layers kept as they are; skopeo and umoci read the result", async () => {
  const out = fresh();
  await copyImage(`oci:${oci2}`, out);
  assert.equal(((await skopeoInspect(`dir:${out}`)).Layers as string[]).length, 2);
  const raw = (await skopeoInspect(`dir:${out}`, ["--raw"])) as { layers: { mediaType: string }[] };
  assert.ok(raw.layers.every((l) => l.mediaType.endsWith("tar+gzip")), "skopeo's oci: copy compressed them; dir: keeps that");
  const layout = join(fx.dir, "from-dir");
  await skopeoCopy(`dir:${out}`, `oci:${layout}:t`);
  const bundle = join(fx.dir, "bundle");
  await run("umoci", ["unpack", "--image", `${layout}:t`, bundle]);
  assert.equal(await readFile(join(bundle, "rootfs", "two"), "utf8"), SECOND);
});

test("an existing image directory is replaced whole; an empty directory is filled", async () => {
  const out = fresh();
  await copyImage(dir2, out);
  await copyImage(dir1, out);
  assert.deepEqual(await snapshotTree(out), await snapshotTree(dir1), "nothing of the previous image is left");
  const empty = fresh();
  await mkdir(empty);
  await copyImage(dir1, empty);
  assert.deepEqual(await snapshotTree(empty), await snapshotTree(dir1));
  assert.deepEqual(await leftovers(), []);
});

test("a symlink to an image directory stays a symlink; its target is replaced", async () => {
  const target = fresh();
  await copyImage(dir2, target);
  const link = fresh();
  await symlink(target, link);
  await copyImage(dir1, link);
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.deepEqual(await snapshotTree(target), await snapshotTree(dir1));
});

test("a non-empty directory that is not an image directory is refused and left untouched", async () => {
  const precious = fresh();
  const files = { "manifest.json": "mine", version: "my own version file\n" };
  await expectRefusedUntouched(precious, files, () => dirTransport.parseReference(precious).newImageDestination({}), /not empty and is not an image directory/);
  assert.deepEqual(await leftovers(), []);
});

test("close without commit leaves PATH exactly as before", async () => {
  const out = fresh();
  await copyImage(dir1, out);
  const before = await snapshotTree(out);
  const { written } = await copyImage(dir2, out, { noCommit: true });
  assert.ok(written.length >= 3, "the abandoned copy wrote its blobs");
  assert.deepEqual(await snapshotTree(out), before);
  const never = join(fresh(), "a", "b");
  await assert.rejects(copyImage(dir2, never, { noCommit: true }), /directory .*\/a does not exist/, "a missing parent is refused, as skopeo does");
  await assert.rejects(stat(join(never, "..")), { code: "ENOENT" }, "no parent is made");
  const fresh2 = fresh();
  await copyImage(dir2, fresh2, { noCommit: true });
  await assert.rejects(stat(fresh2), { code: "ENOENT" }, "an image directory this copy would have made is not left");
  assert.deepEqual(await leftovers(), []);
});

test("putBlobFromFile: the copy is verified before it gets its name; a refused copy leaves nothing; mode 0644", async () => {
  const out = fresh();
  await copyImage(dir1, out);
  const source = join(fx.dir, `file-blob-${n}`);
  const bytes = Buffer.from("a layer kept as it is\n".repeat(1000));
  await writeFile(source, bytes, { mode: 0o600 });
  const digest = `sha256:${sha256Hex(bytes)}`;
  const listing = (await readdir(work)).sort();
  const dest = await dirTransport.parseReference(out).newImageDestination({});
  const refuse = async () => {
    throw new DigestMismatchError("refused by the engine", "sha256:1", "sha256:2");
  };
  await assert.rejects(dest.putBlobFromFile!(source, { digest, size: bytes.length }, { isConfig: false, verify: refuse }), DigestMismatchError);
  assert.equal(await dest.tryReusingBlob({ digest, size: -1 }), undefined);
  await expectError(dest.putBlobFromFile!(source, { digest, size: 3 }, { isConfig: false, verify: async () => undefined }), "EDIGEST", /size 3/);
  await expectError(dest.putBlobFromFile!(source, { digest: "sha256:../../escape", size: 1 }, { isConfig: false, verify: async () => undefined }), "ECORRUPT", /not a sha256 digest/);
  let staged = "";
  const verify = async (copy: string) => {
    assert.equal(copy.endsWith(sha256Hex(bytes)), false, "not under its blob name before it is verified");
    assert.deepEqual(await readFile(copy), bytes);
    staged = copy;
  };
  const stored = await dest.putBlobFromFile!(source, { digest, size: bytes.length }, { isConfig: false, verify });
  assert.deepEqual([stored.digest, stored.size], [digest, bytes.length]);
  assert.notEqual(staged, "");
  assert.deepEqual(await dest.tryReusingBlob({ digest, size: -1 }), { digest, size: bytes.length });
  await dest.putManifest(Buffer.from('{"schemaVersion":2}'), OCI_MANIFEST);
  await dest.commit();
  await dest.close();
  assert.deepEqual(await readFile(join(out, sha256Hex(bytes))), bytes);
  assert.equal((await stat(join(out, sha256Hex(bytes)))).mode & 0o777, 0o644 & ~process.umask(), "the source's mode 0600 is not copied");
  assert.deepEqual((await readdir(work)).sort(), listing, "no temp folder left beside it");
  assert.deepEqual((await readdir(out)).filter((name) => name.startsWith(".")), [], "no temp file left in it");
});

test("putBlob hashes what it writes unless the engine did; tryReusingBlob knows only this copy's blobs", async () => {
  const out = fresh();
  await copyImage(dir1, out);
  const m = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as { layers: { digest: string; size: number }[] };
  const existing = m.layers[0]!;
  const dest = await dirTransport.parseReference(out).newImageDestination({});
  assert.deepEqual([dest.supportedManifestTypes(), dest.desiredLayerCompression(), dest.hasThreadSafePutBlob()], [[], "preserve", true]);
  assert.equal(await dest.tryReusingBlob(existing), undefined, "blobs of the image being replaced are not reused");
  const bytes = Buffer.from("layer bytes");
  const digest = `sha256:${sha256Hex(bytes)}`;
  const put = (info: { digest: string; size: number; placeholder?: boolean }) => dest.putBlob(Readable.from([bytes]), info, { isConfig: false });
  // A placeholder's digest computed by the engine while streaming is taken as it is (one hash per byte).
  const engineDigest = `sha256:${"2".repeat(64)}`;
  const trusted = await dest.putBlob(Readable.from([bytes]), { digest: "sha256:x", size: -1, placeholder: true }, { isConfig: false, streamDigest: { digest: () => engineDigest, size: bytes.length } });
  assert.equal(trusted.digest, engineDigest);
  await expectError(put({ digest, size: 1 }), "EDIGEST", /size 1/);
  await expectError(put({ digest: "sha256:../../escape", size: 1 }), "ECORRUPT", /not a sha256 digest/);
  const stored = await put({ digest: "sha256:unknown", size: -1, placeholder: true });
  assert.deepEqual([stored.digest, stored.size, stored.placeholder], [digest, bytes.length, undefined]);
  assert.deepEqual(await dest.tryReusingBlob({ digest, size: -1 }), { digest, size: bytes.length });
  const instance = `sha256:${"c".repeat(64)}`;
  await dest.putManifest(Buffer.from('{"schemaVersion":2}'), OCI_MANIFEST, instance);
  await expectError(dest.commit(), "EUNSUPPORTED", /before the manifest/);
  await dest.putManifest(Buffer.from('{"schemaVersion":2,"manifests":[]}'), "application/vnd.oci.image.index.v1+json");
  await dest.putSignatures!([Buffer.from("s1"), Buffer.from("s2")]);
  await dest.putSignatures!([Buffer.from("i1")], instance);
  await dest.commit();
  await dest.close();
  assert.deepEqual((await readdir(out)).sort(), [`${"c".repeat(64)}.manifest.json`, `${"c".repeat(64)}.signature-1`, sha256Hex(bytes), "2".repeat(64), "manifest.json", "signature-1", "signature-2", "version"].sort());
  const src = await dirTransport.parseReference(out).newImageSource({});
  assert.deepEqual((await src.getSignatures!()).map((s) => Buffer.from(s).toString()), ["s1", "s2"]);
  assert.deepEqual((await src.getSignatures!(instance)).map((s) => Buffer.from(s).toString()), ["i1"]);
  assert.equal(await readFile(join(out, "version"), "utf8"), "Directory Transport Version: 1.1\n");
});
