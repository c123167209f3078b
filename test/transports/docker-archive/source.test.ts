import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { readdir, readFile, rm, truncate, writeFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import transport from "../../../transports/docker-archive/index.js";
import { run } from "../../helpers/tools.js";
import { buildImageFixture, extract, makeOciInTar, makeOldLayout, pack, readManifest, type ImageFixture } from "./fixtures/image-fixture.js";
import { checkSourceImage } from "./fixtures/source-check.js";
import { feedImage, oneLineError } from "../scratch-images.js";

const COPY_SCRIPT = fileURLToPath(new URL("./fixtures/copy-to-path.ts", import.meta.url));

const open = (rest: string, env?: NodeJS.ProcessEnv) => transport.parseReference(rest).newImageSource(env ? { env } : {});

describe("docker-archive source", () => {
  let fx: ImageFixture;
  let diffIds: string[];

  before(async () => {
    fx = await buildImageFixture();
    const dir = join(fx.dir, "x-extracted");
    await extract(fx.archive2, dir);
    const [item] = await readManifest(dir);
    diffIds = (JSON.parse(await readFile(join(dir, item!.Config), "utf8")) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
  });
  after(() => fx.cleanup());

  it("reads skopeo's archive: a valid v2s2 manifest whose blobs hash to their digests", async () => {
    const src = await open(`${fx.archive2}`);
    try {
      const img = await checkSourceImage(src);
      assert.equal(img.manifest.layers.length, 2);
      assert.deepEqual(img.manifest.layers.map((l) => l.digest), diffIds);
      assert.ok(img.config.config?.Env?.includes("GREETING=hello"));
      const inspect = JSON.parse((await run("skopeo", ["inspect", "--raw", `docker-archive:${fx.archive2}`])).stdout) as { config: { digest: string } };
      assert.equal(img.manifest.config.digest, inspect.config.digest, "same config as skopeo sees");
      assert.deepEqual(await src.getSignatures!(), []);
      await assert.rejects(src.getBlob({ digest: `sha256:${"0".repeat(64)}`, size: -1 }), oneLineError("ENOTFOUND", /no blob sha256:0+ in this image/));
    } finally {
      await src.close();
    }
  });

  it("picks an image by tag or by @0, and says when the tag is not there", async () => {
    for (const sel of ["x:2", "docker.io/library/x:2", "@0"]) {
      const src = await open(`${fx.archive2}:${sel}`);
      await checkSourceImage(src);
      await src.close();
    }
    await assert.rejects(open(`${fx.archive2}:x:3`), oneLineError("ENOTFOUND", /no image tagged docker.io\/library\/x:3 \(tags in the archive: docker.io\/library\/x:2\)/));
    await assert.rejects(open(`${fx.archive2}:@1`), oneLineError("ENOTFOUND", /no image @1: the archive holds 1/));
  });

  it("reads the layout of docker save before Docker 25 (<id>/layer.tar, <id>/json, ./ names)", async () => {
    const old = join(fx.dir, "old.tar");
    await makeOldLayout(fx.archive2, fx.dir, old);
    const names = (await run("tar", ["-tf", old])).stdout;
    assert.match(names, /^\.\/[0-9a-f]{64}\/layer\.tar$/m);
    assert.doesNotMatch(names, /^\.\/[0-9a-f]{64}\.tar$/m);
    const src = await open(`${old}:x:2`);
    try {
      const img = await checkSourceImage(src);
      assert.deepEqual(img.manifest.layers.map((l) => l.digest), diffIds, "layer digests computed by hashing");
      const infos = (await src.layerInfosForCopy!())!;
      assert.ok(infos.every((l) => l.mediaType === "application/vnd.docker.image.rootfs.diff.tar" && l.compression === "none"), "copied as plain tars");
    } finally {
      await src.close();
    }
  });

  it("reads the Docker 25+ layout (an OCI layout in the tar, manifest.json beside it)", async () => {
    const plain = join(fx.dir, "oci-plain.tar");
    await makeOciInTar(fx.archive2, fx.dir, plain, false);
    const src = await open(plain);
    const img = await checkSourceImage(src);
    await src.close();
    assert.deepEqual(img.manifest.layers.map((l) => l.digest), diffIds);

    const gz = join(fx.dir, "oci-gzip.tar");
    await makeOciInTar(fx.archive2, fx.dir, gz, true);
    const gsrc = await open(`${gz}:x:2`);
    const gimg = await checkSourceImage(gsrc);
    await gsrc.close();
    assert.ok(gimg.manifest.layers.every((l) => l.mediaType === "application/vnd.docker.image.rootfs.diff.tar.gzip"));
    assert.deepEqual(gimg.config.rootfs.diff_ids, diffIds);
    assert.notDeepEqual(gimg.manifest.layers.map((l) => l.digest), diffIds);
  });

  it("needs @N or a name for an archive with several images", async () => {
    const dir = join(fx.dir, "multi");
    await extract(fx.archive2, dir);
    const first = await readManifest(dir);
    await extract(fx.archive3, dir);
    const second = await readManifest(dir);
    await writeFile(join(dir, "manifest.json"), JSON.stringify([...first, ...second]));
    const multi = join(fx.dir, "multi.tar");
    await pack(dir, multi);
    await assert.rejects(open(multi), oneLineError("EBADREF", /multi\.tar: the archive holds 2 images; pick one with :NAME:TAG or :@INDEX \(tags in the archive: docker.io\/library\/x:2, docker.io\/library\/x:3\)$/));
    const byIndex = await open(`${multi}:@1`);
    const byName = await open(`${multi}:x:3`);
    const a = await checkSourceImage(byIndex);
    const b = await checkSourceImage(byName);
    assert.equal(a.manifest.layers.length, 3);
    assert.deepEqual(a.manifest, b.manifest);
    await byIndex.close();
    await byName.close();
  });

  it("reports a truncated archive, a corrupt manifest.json, a missing layer and a tampered config in one line", async () => {
    const copy = join(fx.dir, "broken.tar");
    await writeFile(copy, await readFile(fx.archive2));
    await truncate(copy, (await stat(copy)).size / 2);
    await assert.rejects(open(copy), oneLineError("ECORRUPT", /broken\.tar: truncated archive: .* at offset \d+$/));

    const dir = join(fx.dir, "corrupt");
    await extract(fx.archive2, dir);
    const manifest = await readFile(join(dir, "manifest.json"), "utf8");
    await writeFile(join(dir, "manifest.json"), manifest.slice(0, 40));
    await pack(dir, copy);
    await assert.rejects(open(copy), oneLineError("ECORRUPT", /broken\.tar: manifest\.json is not valid JSON/));

    await writeFile(join(dir, "manifest.json"), JSON.stringify({ Config: "x" }));
    await pack(dir, copy);
    await assert.rejects(open(copy), oneLineError("ECORRUPT", /broken\.tar: manifest\.json is not a JSON array/));

    const [item] = JSON.parse(manifest) as Array<{ Config: string; Layers: string[] }>;
    await writeFile(join(dir, "manifest.json"), manifest);
    await rm(join(dir, item!.Layers[1]!));
    await pack(dir, copy);
    await assert.rejects(open(copy), oneLineError("ECORRUPT", new RegExp(`manifest\\.json names layer "${item!.Layers[1]}", which is not in the archive`)));

    await extract(fx.archive2, dir);
    const config = await readFile(join(dir, item!.Config), "utf8");
    await writeFile(join(dir, item!.Config), config.replace("GREETING=hello", "GREETING=other"));
    await pack(dir, copy);
    await assert.rejects(open(copy), oneLineError("EDIGEST", new RegExp(`config ${item!.Config}: digest mismatch`)));

    await rm(join(dir, "manifest.json"));
    await pack(dir, copy);
    await assert.rejects(open(copy), oneLineError("EUNSUPPORTED", /no manifest\.json; archives from docker save before Docker 1\.10/));
    const missing = relative(process.cwd(), join(fx.dir, "nothing.tar"));
    await assert.rejects(open(missing), { code: "ENOTFOUND", message: `docker-archive:${missing}: no such file or directory` });
    await assert.rejects(open(`${missing}:x:2`), { code: "ENOTFOUND", message: `docker-archive:${missing}: no such file or directory` });
  });

  it("spools a pipe to a temp file and removes it at close", async () => {
    const spoolDir = join(fx.dir, "spool");
    await run("mkdir", ["-p", spoolDir]);
    const fifo = join(fx.dir, "in.fifo");
    await run("mkfifo", [fifo]);
    const writer = spawn("sh", ["-c", `cat "${fx.archive2}" > "${fifo}"`], { stdio: "inherit" });
    const exited = new Promise<number | null>((resolve) => writer.on("exit", resolve));
    const src = await open(`${fifo}:x:2`, { ...process.env, TMPDIR: spoolDir });
    assert.equal(await exited, 0);
    assert.equal((await readdir(spoolDir)).length, 1, "spooled while open");
    await checkSourceImage(src);
    await src.close();
    assert.deepEqual(await readdir(spoolDir), [], "spool removed at close");
  });

  it("reads /dev/stdin of a child, whether it is a socket or a pipe", async () => {
    const expected = join(fx.dir, "stdin-expected.tar");
    const src = await open(fx.archive2);
    const dest = await transport.parseReference(`${expected}:x:2`).newImageDestination({});
    await feedImage(src, dest);
    await dest.close();
    await src.close();
    for (const viaShellPipe of [false, true]) {
      const got = join(fx.dir, `stdin-${viaShellPipe ? "pipe" : "socket"}.tar`);
      const args = ["--import", "tsx", COPY_SCRIPT, "/dev/stdin", `${got}:x:2`];
      const child = viaShellPipe
        ? spawn("sh", ["-c", `cat '${fx.archive2}' | "${process.execPath}" ${args.map((a) => `'${a}'`).join(" ")}`], { stdio: ["ignore", "inherit", "inherit"] })
        : spawn(process.execPath, args, { stdio: ["pipe", "inherit", "inherit"] });
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      if (!viaShellPipe) await pipeline(createReadStream(fx.archive2), child.stdin!);
      assert.equal(await exited, 0);
      assert.ok((await readFile(got)).equals(await readFile(expected)), `same image through a ${viaShellPipe ? "pipe" : "socket"}`);
    }
  });

  it("reads an archive without its end-of-archive blocks when every entry is whole (skopeo, podman and GNU tar do)", async () => {
    const bare = join(fx.dir, "no-eof.tar");
    // The end of the last entry's padded content: where the two zero blocks begin.
    const nuls = /^block (\d+): \*\* Block of NULs \*\*$/m.exec((await run("tar", ["-tR", "-f", fx.archive2])).stdout);
    const end = Number(nuls![1]) * 512;
    await writeFile(bare, await readFile(fx.archive2));
    await truncate(bare, Number(end));
    assert.ok((await stat(bare)).size < (await stat(fx.archive2)).size, "the zero blocks are gone");
    await run("skopeo", ["inspect", `docker-archive:${bare}`]);
    const src = await open(bare);
    try {
      assert.deepEqual((await checkSourceImage(src)).manifest.layers.map((l) => l.digest), diffIds);
    } finally {
      await src.close();
    }
    // An entry cut short is still refused.
    await truncate(bare, Number(end) - 700);
    await assert.rejects(open(bare), /truncated archive/);
  });

  it("reads a gzipped docker save archive (as podman load does); another compression is named", async () => {
    const gz = join(fx.dir, "x2.tar.gz");
    await run("sh", ["-c", 'gzip -c "$1" > "$2"', "sh", fx.archive2, gz]);
    const src = await open(gz);
    try {
      assert.deepEqual((await checkSourceImage(src)).manifest.layers.map((l) => l.digest), diffIds);
    } finally {
      await src.close();
    }
    const xz = join(fx.dir, "x2.tar.xz");
    await run("sh", ["-c", 'xz -c "$1" > "$2"', "sh", fx.archive2, xz]);
    await assert.rejects(open(xz), (err: Error) => {
      assert.equal(err.message, `docker-archive:${xz}: the archive is xz-compressed; decompress it first (xz -d)`);
      return true;
    });
  });
});
