import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { sha256 } from "../../../src/digest.js";
import type { ImageDestination, SystemContext } from "../../../src/types.js";
import transport from "../../../transports/docker-archive/index.js";
import { run } from "../../helpers/tools.js";
import { buildImageFixture, extract, readManifest, type ImageFixture } from "./fixtures/image-fixture.js";
import { checkSourceImage } from "./fixtures/source-check.js";
import { feedImage, oneLineError } from "../scratch-images.js";
import { copyImage } from "../../../src/copy/index.js";
import { MemoryImage, MemoryReference } from "../../copy/memory-transport.js";
import { addImage, tarOf } from "../../copy/test-images.js";

async function extractTo(archive: string, dir: string): Promise<string> {
  await extract(archive, dir);
  return dir;
}

const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const COPY_SCRIPT = fileURLToPath(new URL("./fixtures/copy-to-path.ts", import.meta.url));

const destination = (rest: string, ctx: SystemContext = {}): Promise<ImageDestination> => transport.parseReference(rest).newImageDestination(ctx);

async function copyArchive(from: string, to: string, ctx: SystemContext = {}): Promise<void> {
  const src = await transport.parseReference(from).newImageSource({});
  const dest = await destination(to, ctx);
  try {
    await feedImage(src, dest);
  } finally {
    await dest.close();
    await src.close();
  }
}

/** Runs the copy script in a child whose stdout is `shell`'s pipe or Node's socket, into `outFile`. */
async function copyInChild(from: string, to: string, outFile: string, viaShellPipe: boolean): Promise<void> {
  const args = ["--import", "tsx", COPY_SCRIPT, from, to];
  const child = viaShellPipe
    ? spawn("sh", ["-c", `"${process.execPath}" ${args.map((a) => `'${a}'`).join(" ")} | cat > '${outFile}'`], { stdio: ["ignore", "inherit", "inherit"] })
    : spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (!viaShellPipe) await pipeline(child.stdout!, createWriteStream(outFile));
  assert.equal(await exited, 0);
}

/** Runs the copy script in a child whose stdout reader stops after the first bytes; its exit code and stderr. */
async function copyToEarlyClosingReader(from: string, to: string, viaShellPipe: boolean): Promise<{ code: number | null; stderr: string }> {
  const args = ["--import", "tsx", COPY_SCRIPT, from, to];
  // In a shell pipeline the child's exit status is lost: it is printed after its own stderr instead.
  const child = viaShellPipe
    ? spawn("sh", ["-c", `{ "${process.execPath}" ${args.map((a) => `'${a}'`).join(" ")}; echo "exit $?" >&2; } | head -c 10 > /dev/null`], { stdio: ["ignore", "ignore", "pipe"] })
    : spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.once("data", () => child.stdout!.destroy());
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (!viaShellPipe) return { code, stderr };
  const status = /exit (\d+)\n$/.exec(stderr);
  return { code: status ? Number(status[1]) : null, stderr: stderr.replace(/exit \d+\n$/, "") };
}

async function leftovers(dir: string, name: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith(`.${name}.tmp`));
}

describe("docker-archive destination", () => {
  let fx: ImageFixture;
  let out: string;

  before(async () => {
    fx = await buildImageFixture();
    out = join(fx.dir, "out");
    await mkdir(out);
  });
  after(() => fx.cleanup());

  it("writes what skopeo writes (RepoTags, layer IDs, legacy files), and skopeo and podman load it", async () => {
    const ours = join(out, "ours.tar");
    const tags = ["a/b:3", "localhost:5000/q/r:t"];
    await copyArchive(fx.archive2, `${ours}:x:1`, { additionalTags: tags });
    const theirs = join(out, "theirs.tar");
    await run("skopeo", ["copy", "-q", ...tags.flatMap((t) => ["--additional-tag", t]), `docker-archive:${fx.archive2}`, `docker-archive:${theirs}:x:1`]);
    const [a, b] = [join(out, "ours"), join(out, "theirs")];
    await extract(ours, a);
    await extract(theirs, b);
    assert.deepEqual(await readManifest(a), await readManifest(b));
    assert.deepEqual((await readManifest(a))[0]!.RepoTags, ["docker.io/library/x:1", "docker.io/a/b:3", "localhost:5000/q/r:t"]);
    assert.equal(await readFile(join(a, "repositories"), "utf8"), await readFile(join(b, "repositories"), "utf8"));
    const names = async (d: string): Promise<string[]> => (await run("tar", ["-tf", d])).stdout.split("\n").sort();
    assert.deepEqual(await names(ours), await names(theirs), "same entries, legacy <id>/ folders included");
    for (const id of (await readdir(a)).filter((n) => /^[0-9a-f]{64}$/.test(n))) {
      assert.equal(await readFile(join(a, id, "json"), "utf8"), await readFile(join(b, id, "json"), "utf8"), `${id}/json`);
    }

    const listing = (await run("tar", ["--numeric-owner", "-tvf", ours])).stdout.trim().split("\n");
    for (const line of listing) {
      assert.match(line, /^(-rw-r--r--|lrwxrwxrwx) 0\/0 .* 1970-01-01 00:00 /, line);
    }

    const inspect = JSON.parse((await run("skopeo", ["inspect", `docker-archive:${ours}:a/b:3`])).stdout) as { Layers: string[]; Env: string[] };
    assert.equal(inspect.Layers.length, 2);
    assert.ok(inspect.Env.includes("GREETING=hello"));

    const podman = ["--root", join(fx.dir, "pg"), "--runroot", join(fx.dir, "pr"), "--storage-driver", "vfs"];
    await run("podman", [...podman, "load", "-q", "-i", ours]);
    const images = (await run("podman", [...podman, "images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout.trim().split("\n").sort();
    assert.deepEqual(images, ["docker.io/a/b:3", "docker.io/library/x:1", "localhost:5000/q/r:t"]);

    const again = await transport.parseReference(`${ours}:localhost:5000/q/r:t`).newImageSource({});
    await checkSourceImage(again);
    await again.close();
  });

  it("is deterministic, writes no RepoTags without a name, and takes placeholder digests", async () => {
    const one = join(out, "one.tar");
    const two = join(out, "two.tar");
    await copyArchive(fx.archive3, one);
    const src = await transport.parseReference(fx.archive3).newImageSource({});
    const dest = await destination(two);
    await feedImage(src, dest, { placeholders: true });
    await dest.close();
    await src.close();
    assert.ok((await readFile(one)).equals(await readFile(two)), "same bytes");
    const dir = join(out, "one");
    await extract(one, dir);
    assert.deepEqual((await readManifest(dir))[0]!.RepoTags, []);
    assert.equal(await readFile(join(dir, "repositories"), "utf8"), "{}");
    await run("skopeo", ["inspect", `docker-archive:${one}`]);
  });

  it("checks digests and sizes, refuses other manifest types, and leaves PATH alone until commit", async () => {
    const target = join(out, "keep.tar");
    await writeFile(target, "");
    const blob = Buffer.from("layer bytes");
    const digest = sha256(blob);
    // Digests are the engine's to prove (it hashed the stream); sizes are checked here too, and a torn archive is never committed.
    const torn = await destination(`${target}:x:1`);
    await assert.rejects(
      torn.putBlob(Readable.from([blob]), { digest, size: 3 }, { isConfig: false }),
      oneLineError("EDIGEST", /keep\.tar:docker\.io\/library\/x:1: blob sha256:[0-9a-f]+: digest mismatch: expected size 3, got size 11/),
    );
    await assert.rejects(torn.putBlob(Readable.from([blob]), { digest, size: blob.length }, { isConfig: false }), oneLineError("EIO", /an earlier blob failed half-way into the archive/));
    await torn.close();
    const dest = await destination(`${target}:x:1`);
    const stored = await dest.putBlob(Readable.from([blob]), { digest, size: blob.length }, { isConfig: false });
    assert.deepEqual([stored.digest, stored.size, stored.compression], [digest, blob.length, "none"]);
    assert.deepEqual(await dest.tryReusingBlob({ digest, size: -1 }), stored);
    assert.ok((await leftovers(out, "keep.tar")).length >= 1, "blobs wait in temp files beside PATH");
    await assert.rejects(dest.putManifest(Buffer.from("{}"), "application/vnd.oci.image.manifest.v1+json"), oneLineError("EUNSUPPORTED", /Docker v2s2 images only/));
    const manifest = { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: { digest: sha256("missing"), size: 7 }, layers: [{ digest, size: blob.length }] };
    await dest.putManifest(Buffer.from(JSON.stringify(manifest)), DOCKER_MANIFEST);
    await assert.rejects(dest.commit(), oneLineError("ENOTFOUND", /the manifest's config sha256:[0-9a-f]+ was never written/));
    await dest.close();
    await dest.close();
    assert.equal(await readFile(target, "utf8"), "", "the empty file is still empty");
    assert.deepEqual(await leftovers(out, "keep.tar"), []);
  });

  it("refuses an existing non-empty file before writing anything, as skopeo does", async () => {
    const notes = join(out, "notes.txt");
    await writeFile(notes, "notes\n");
    await assert.rejects(
      destination(notes),
      oneLineError("EUNSUPPORTED", /^docker-archive:\S+notes\.txt: \S+notes\.txt exists and is not empty; docker-archive does not modify existing archives \(remove it first\)$/),
    );
    assert.equal(await readFile(notes, "utf8"), "notes\n");

    const archive = join(out, "holds-a-b-1.tar");
    await copyArchive(fx.archive2, `${archive}:a/b:1`);
    const before = await readFile(archive);
    await assert.rejects(copyArchive(fx.archive3, `${archive}:a/b:2`), oneLineError("EUNSUPPORTED", /holds-a-b-1\.tar exists and is not empty/));
    assert.ok((await readFile(archive)).equals(before), "a/b:1 is still there, byte for byte");
    const link = join(out, "link-to-archive.tar");
    await symlink(archive, link);
    await assert.rejects(destination(link), oneLineError("EUNSUPPORTED", /link-to-archive\.tar exists and is not empty/));
    assert.deepEqual([...(await leftovers(out, "notes.txt")), ...(await leftovers(out, "holds-a-b-1.tar"))], []);
    await assert.rejects(
      run("skopeo", ["copy", "-q", `docker-archive:${fx.archive3}`, `docker-archive:${notes}`]),
      /docker-archive doesn't support modifying existing images/,
      "the same refusal as skopeo's",
    );
  });

  it("fills an existing empty file, and a missing one", async () => {
    for (const name of ["empty.tar", "missing.tar"]) {
      const target = join(out, name);
      if (name === "empty.tar") await writeFile(target, "");
      await copyArchive(fx.archive2, `${target}:x:1`);
      const src = await transport.parseReference(target).newImageSource({});
      await checkSourceImage(src);
      await src.close();
      assert.deepEqual(await leftovers(out, name), []);
    }
  });

  it("streams into a FIFO", async () => {
    const fifo = join(out, "out.fifo");
    const got = join(out, "from-fifo.tar");
    await run("mkfifo", [fifo]);
    const reader = spawn("sh", ["-c", `cat "${fifo}" > "${got}"`], { stdio: "inherit" });
    const exited = new Promise<number | null>((resolve) => reader.on("exit", resolve));
    await copyArchive(fx.archive2, `${fifo}:x:1`);
    assert.equal(await exited, 0);
    const reference = join(out, "reference.tar");
    await copyArchive(fx.archive2, `${reference}:x:1`);
    assert.ok((await readFile(got)).equals(await readFile(reference)), "same bytes as a file copy");
    assert.deepEqual(await leftovers(out, "out.fifo"), []);
  });

  it("streams to a child's /dev/stdout, whether it is a socket or a pipe", async () => {
    const reference = join(out, "stdout-reference.tar");
    await copyArchive(fx.archive2, `${reference}:x:1`);
    for (const viaShellPipe of [false, true]) {
      const got = join(out, `stdout-${viaShellPipe ? "pipe" : "socket"}.tar`);
      await copyInChild(fx.archive2, "/dev/stdout:x:1", got, viaShellPipe);
      assert.ok((await readFile(got)).equals(await readFile(reference)), `same bytes through a ${viaShellPipe ? "pipe" : "socket"}`);
      await run("skopeo", ["inspect", `docker-archive:${got}`]);
    }
  });

  it("says in one line that the reader closed the pipe early, and fails (the archive is incomplete)", async () => {
    for (const viaShellPipe of [false, true]) {
      const { code, stderr } = await copyToEarlyClosingReader(fx.archive3, "/dev/stdout:x:3", viaShellPipe);
      assert.equal(stderr, "docker-archive:/dev/stdout: the reader closed the pipe early\n", `through a ${viaShellPipe ? "pipe" : "socket"}`);
      assert.equal(code, 1);
    }
    const fifo = join(out, "early.fifo");
    await run("mkfifo", [fifo]);
    const reader = spawn("sh", ["-c", `head -c 10 "${fifo}" > /dev/null`], { stdio: "inherit" });
    const exited = new Promise<number | null>((resolve) => reader.on("exit", resolve));
    await assert.rejects(copyArchive(fx.archive3, `${fifo}:x:3`), oneLineError("EIO", /^docker-archive:\S+early\.fifo: the reader closed the pipe early$/));
    assert.equal(await exited, 0);
  });

  it("writes a layer whose size shows only at its end straight into the archive (nothing waits in a temp folder), its header filled in then", async () => {
    const target = join(out, "unsized.tar");
    const dest = await destination(`${target}:u/n:1`);
    // Not a multiple of 512: the entry needs padding, and its size is in the header only at the end.
    const content = Buffer.alloc(3 * 1024 * 1024 + 100, "layer bytes ");
    const tempEntries = async (): Promise<string[]> => {
      const folders = (await readdir(out)).filter((n) => n.startsWith(".unsized.tar.tmp-") && !/-[0-9]+-[0-9a-f]+$/.test(n));
      return (await Promise.all(folders.map((f) => readdir(join(out, f))))).flat();
    };
    let midway: string[] | undefined;
    async function* chunks(): AsyncGenerator<Buffer> {
      yield content.subarray(0, 2 * 1024 * 1024);
      midway = await tempEntries();
      yield content.subarray(2 * 1024 * 1024);
    }
    const layer = await dest.putBlob(Readable.from(chunks()), { digest: "sha256:0", size: -1, placeholder: true }, { isConfig: false });
    assert.deepEqual([layer.digest, layer.size], [sha256(content), content.length]);
    assert.deepEqual(midway, [], "no layer copy in the temp folder");
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer.digest] } }));
    await dest.putBlob(Readable.from([config]), { digest: sha256(config), size: config.length }, { isConfig: true });
    const manifest = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: sha256(config), size: config.length },
      layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar", digest: layer.digest, size: layer.size }],
    };
    await dest.putManifest(Buffer.from(JSON.stringify(manifest)), DOCKER_MANIFEST);
    await dest.commit();
    await dest.close();
    const dir = await extractTo(target, join(out, "unsized"));
    const entry = `${layer.digest.slice("sha256:".length)}.tar`;
    assert.ok((await readFile(join(dir, entry))).equals(content), "the entry holds the layer, its header the right size");
    assert.deepEqual((await readManifest(dir))[0]!.Layers, [entry]);
    assert.deepEqual(await tempEntries(), []);
  });

  it("writes a layer used twice once, even when the engine compresses and sends it twice", async () => {
    const image = new MemoryImage();
    const tar = await tarOf({ same: "the same layer\n".repeat(100) });
    addImage(image, { format: "docker", layers: [{ tar, compression: "none" }, { tar, compression: "none" }] });
    const target = join(out, "twice.tar");
    await copyImage(new MemoryReference("src", image), transport.parseReference(`${target}:x:2`), { compress: true });
    const names = (await run("tar", ["-tf", target])).stdout.trim().split("\n");
    const layerEntries = names.filter((n) => /^[0-9a-f]{64}\.tar$/.test(n));
    assert.equal(layerEntries.length, 1, names.join(" "));
    const [item] = await readManifest(await extractTo(target, join(out, "twice")));
    assert.deepEqual(item!.Layers, [layerEntries[0], layerEntries[0]]);
    await run("skopeo", ["inspect", `docker-archive:${target}`]);
  });
});
