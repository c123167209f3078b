import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { sha256 } from "../../../src/digest.js";
import { isImgcopyError, type ErrorCode } from "../../../src/errors.js";
import type { ImageDestination, SystemContext } from "../../../src/types.js";
import transport from "../../../transports/docker-archive/index.js";
import { run } from "../../helpers/tools.js";
import { buildImageFixture, extract, readManifest, type ImageFixture } from "./fixtures/image-fixture.js";
import { copyThrough } from "./fixtures/mini-copy.js";
import { checkSourceImage } from "./fixtures/source-check.js";

const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const COPY_SCRIPT = fileURLToPath(new URL("./fixtures/copy-to-path.ts", import.meta.url));

function oneLine(code: ErrorCode, pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isImgcopyError(err), `not an imgcopy error: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes("\n"), "one line");
    return true;
  };
}

const destination = (rest: string, ctx: SystemContext = {}): Promise<ImageDestination> => transport.parseReference(rest).newImageDestination(ctx);

async function copyArchive(from: string, to: string, ctx: SystemContext = {}): Promise<void> {
  const src = await transport.parseReference(from).newImageSource({});
  const dest = await destination(to, ctx);
  try {
    await copyThrough(src, dest);
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
    await copyArchive(fx.archiveX, `${ours}:x:1`, { additionalTags: tags });
    const theirs = join(out, "theirs.tar");
    await run("skopeo", ["copy", "-q", ...tags.flatMap((t) => ["--additional-tag", t]), `docker-archive:${fx.archiveX}`, `docker-archive:${theirs}:x:1`]);
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
    assert.ok(inspect.Env.includes("A=b"));

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
    await copyArchive(fx.archiveY, one);
    const src = await transport.parseReference(fx.archiveY).newImageSource({});
    const dest = await destination(two);
    await copyThrough(src, dest, { placeholders: true });
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
    await writeFile(target, "previous content");
    const dest = await destination(`${target}:x:1`);
    const blob = Buffer.from("layer bytes");
    const digest = sha256(blob);
    await assert.rejects(
      dest.putBlob(Readable.from([blob]), { digest: sha256("other"), size: blob.length }, { isConfig: false }),
      oneLine("EDIGEST", /keep\.tar:docker\.io\/library\/x:1: blob sha256:[0-9a-f]+: digest mismatch/),
    );
    await assert.rejects(dest.putBlob(Readable.from([blob]), { digest, size: 3 }, { isConfig: false }), oneLine("EDIGEST", /expected size 3, got size 11/));
    const stored = await dest.putBlob(Readable.from([blob]), { digest, size: blob.length }, { isConfig: false });
    assert.deepEqual([stored.digest, stored.size, stored.compression], [digest, blob.length, "none"]);
    assert.deepEqual(await dest.tryReusingBlob({ digest, size: -1 }), stored);
    assert.equal((await leftovers(out, "keep.tar")).length, 1, "blobs wait in a temp folder beside PATH");
    await assert.rejects(dest.putManifest(Buffer.from("{}"), "application/vnd.oci.image.manifest.v1+json"), oneLine("EUNSUPPORTED", /Docker v2s2 images only/));
    const manifest = { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: { digest: sha256("missing"), size: 7 }, layers: [{ digest, size: blob.length }] };
    await dest.putManifest(Buffer.from(JSON.stringify(manifest)), DOCKER_MANIFEST);
    await assert.rejects(dest.commit(), oneLine("ENOTFOUND", /the manifest's config sha256:[0-9a-f]+ was never written/));
    await dest.close();
    await dest.close();
    assert.equal(await readFile(target, "utf8"), "previous content");
    assert.deepEqual(await leftovers(out, "keep.tar"), []);
  });

  it("replaces an existing archive at commit", async () => {
    const target = join(out, "replace.tar");
    await writeFile(target, "previous content");
    await copyArchive(fx.archiveX, `${target}:x:1`);
    const src = await transport.parseReference(target).newImageSource({});
    await checkSourceImage(src);
    await src.close();
    assert.deepEqual(await leftovers(out, "replace.tar"), []);
  });

  it("streams into a FIFO", async () => {
    const fifo = join(out, "out.fifo");
    const got = join(out, "from-fifo.tar");
    await run("mkfifo", [fifo]);
    const reader = spawn("sh", ["-c", `cat "${fifo}" > "${got}"`], { stdio: "inherit" });
    const exited = new Promise<number | null>((resolve) => reader.on("exit", resolve));
    await copyArchive(fx.archiveX, `${fifo}:x:1`);
    assert.equal(await exited, 0);
    const reference = join(out, "reference.tar");
    await copyArchive(fx.archiveX, `${reference}:x:1`);
    assert.ok((await readFile(got)).equals(await readFile(reference)), "same bytes as a file copy");
    assert.deepEqual(await leftovers(out, "out.fifo"), []);
  });

  it("streams to a child's /dev/stdout, whether it is a socket or a pipe", async () => {
    const reference = join(out, "stdout-reference.tar");
    await copyArchive(fx.archiveX, `${reference}:x:1`);
    for (const viaShellPipe of [false, true]) {
      const got = join(out, `stdout-${viaShellPipe ? "pipe" : "socket"}.tar`);
      await copyInChild(fx.archiveX, "/dev/stdout:x:1", got, viaShellPipe);
      assert.ok((await readFile(got)).equals(await readFile(reference)), `same bytes through a ${viaShellPipe ? "pipe" : "socket"}`);
      await run("skopeo", ["inspect", `docker-archive:${got}`]);
    }
  });
});
