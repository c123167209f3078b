// --dest-compress / --dest-decompress / --dest-compress-format apply where skopeo 1.9.3 applies them
// (a destination that keeps layers as they are: dir:), and are ignored with a warning elsewhere:
// docker-archive: layers are always uncompressed, oci: layers always compressed.
import assert from "node:assert/strict";
import { readFile, open } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BuildahStore } from "../copy/buildah-store.js";
import { run, tempDir } from "../helpers/tools.js";
import { imgcopy, stderrLines } from "./run-imgcopy.js";

const GZIP_MAGIC = "1f8b";

let work: { path: string; cleanup: () => Promise<void> };
let gzipped: string;

async function magicOf(path: string): Promise<string> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(2);
    await fh.read(buf, 0, 2, 0);
    return buf.toString("hex");
  } finally {
    await fh.close();
  }
}

async function dirLayerMagic(dir: string): Promise<string> {
  const m = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { layers: { digest: string }[] };
  return magicOf(join(dir, m.layers[0]!.digest.slice(7)));
}

async function ociLayerMagic(layout: string): Promise<string> {
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const m = JSON.parse(await readFile(join(layout, "blobs/sha256", index.manifests[0]!.digest.slice(7)), "utf8")) as { layers: { digest: string }[] };
  return magicOf(join(layout, "blobs/sha256", m.layers[0]!.digest.slice(7)));
}

before(async () => {
  work = await tempDir();
  const store = new BuildahStore(join(work.path, "store"));
  await store.makeImage("localhost/cf", { files: { "a.txt": "a\n".repeat(1000) } });
  gzipped = join(work.path, "gz");
  await store.push("localhost/cf", `oci:${gzipped}:t`);
  assert.equal(await ociLayerMagic(gzipped), GZIP_MAGIC);
});
after(async () => {
  await work?.cleanup();
});

describe("layer compression flags, per destination as skopeo decides", () => {
  it("dir: --dest-decompress decompresses, --dest-compress compresses, without a warning", async () => {
    const plain = join(work.path, "dir-plain");
    const r = await imgcopy(["-q", "--dest-decompress", `oci:${gzipped}:t`, `dir:${plain}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.notEqual(await dirLayerMagic(plain), GZIP_MAGIC);
    const again = join(work.path, "dir-gz");
    const c = await imgcopy(["-q", "--dest-compress", `dir:${plain}`, `dir:${again}`]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(await dirLayerMagic(again), GZIP_MAGIC);
  });

  it("docker-archive: --dest-compress is ignored with a warning; layers stay uncompressed", async () => {
    const tar = join(work.path, "a.tar");
    const r = await imgcopy(["-q", "--dest-compress", `oci:${gzipped}:t`, `docker-archive:${tar}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(stderrLines(r), [
      `imgcopy: warning: --dest-compress ignored: docker-archive:${tar} always stores layers uncompressed (as skopeo does)`,
    ]);
    const listing = (await run("tar", ["-tvf", tar])).stdout;
    const layer = /\s([0-9a-f]{64}\.tar)$/m.exec(listing)![1]!;
    const head = (await run("sh", ["-c", `tar -xOf "$1" "$2" | head -c 2 | od -An -tx1 | tr -d ' \\n'`, "sh", tar, layer])).stdout;
    assert.notEqual(head, GZIP_MAGIC);
  });

  it("oci: --dest-decompress is ignored with a warning; layers stay compressed", async () => {
    const layout = join(work.path, "oci-out");
    const r = await imgcopy(["-q", "--dest-decompress", `oci:${gzipped}:t`, `oci:${layout}:t`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(stderrLines(r), [
      `imgcopy: warning: --dest-decompress ignored: oci:${layout}:t always stores layers compressed (as skopeo does; --dest-oci-accept-uncompressed-layers keeps uncompressed ones)`,
    ]);
    assert.equal(await ociLayerMagic(layout), GZIP_MAGIC);
  });
});
