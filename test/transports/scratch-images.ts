// The images the dir, oci and docker-archive transport tests read — built FROM SCRATCH in a throwaway
// buildah store (test/helpers/buildah-store.ts) — and the checks those tests share.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { isImgcopyError, type ErrorCode } from "../../src/errors.js";
import type { ImageDestination, ImageSource } from "../../src/types.js";
import { createStore, type Store } from "../helpers/buildah-store.js";

export { skopeoCopy, skopeoInspect } from "../helpers/buildah-store.js";

/** /etc/hello of every image, /two of x:2 and x:3, /third of x:3 (more than a pipe or socket buffers). */
export const HELLO = "hello from a scratch image\n";
export const SECOND = "second layer\n".repeat(100);
export const THIRD = "third layer\n".repeat(100_000);

export interface ScratchImages {
  store: Store;
  /** An empty folder for the test's outputs; cleanup() removes it with the store. */
  dir: string;
  /** The containers-storage reference skopeo reads localhost/x:TAG through. */
  ref(tag: 1 | 2 | 3): string;
  cleanup(): Promise<void>;
}

/**
 * localhost/x:1: one layer (/etc/hello), linux/amd64, Env GREETING=hello, a label Go's JSON escapes;
 * localhost/x:2: x:1 plus /two (so its first layer is x:1's); localhost/x:3: x:2 plus /third (1.2 MB).
 */
export async function buildScratchImages(): Promise<ScratchImages> {
  const store = await createStore("vfs");
  try {
    const c1 = await store.buildah(["from", "scratch"]);
    const m1 = await store.buildah(["mount", c1]);
    await mkdir(join(m1, "etc"));
    await writeFile(join(m1, "etc", "hello"), HELLO);
    await store.buildah(["config", "--os", "linux", "--arch", "amd64", "--env", "GREETING=hello", "--label", "k=<v&>", "--cmd", "/bin/true", c1]);
    await store.buildah(["commit", "-q", "--rm", c1, "localhost/x:1"]);
    await commitOnTop(store, "localhost/x:1", "localhost/x:2", "two", SECOND);
    await commitOnTop(store, "localhost/x:2", "localhost/x:3", "third", THIRD);
    const dir = join(store.dir, "work");
    await mkdir(dir);
    return { store, dir, ref: (tag) => store.containersStorageRef(`localhost/x:${tag}`), cleanup: () => store.cleanup() };
  } catch (err) {
    await store.cleanup();
    throw err;
  }
}

async function commitOnTop(store: Store, base: string, name: string, file: string, content: string): Promise<void> {
  const c = await store.buildah(["from", "--pull=never", base]);
  await writeFile(join(await store.buildah(["mount", c]), file), content);
  await store.buildah(["commit", "-q", "--rm", c, name]);
}

/** A predicate for assert.rejects: an ImgcopyError with `code`, one line, matching `pattern`. */
export function oneLineError(code: ErrorCode, pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isImgcopyError(err), `expected an ImgcopyError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.message, pattern);
    return true;
  };
}

export async function expectError(p: Promise<unknown>, code: ErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(p, oneLineError(code, pattern));
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Reads a stream to the end (gunzipped first when asked), hashing it; returns digest and size. */
export async function hashStream(stream: Readable, opts: { gunzip?: boolean } = {}): Promise<{ digest: string; size: number }> {
  const h = createHash("sha256");
  let size = 0;
  const sink = async (chunks: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of chunks) {
      h.update(chunk);
      size += chunk.length;
    }
  };
  if (opts.gunzip) await pipeline(stream, createGunzip(), sink);
  else await pipeline(stream, sink);
  return { digest: `sha256:${h.digest("hex")}`, size };
}

/** Every entry under `dir` with its type, mode and content hash: equal snapshots = byte-identical trees. */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string): Promise<void> {
    const abs = join(dir, rel);
    const st = await lstat(abs);
    if (st.isDirectory()) {
      out[rel || "."] = `dir ${st.mode.toString(8)}`;
      for (const name of (await readdir(abs)).sort()) await walk(rel ? join(rel, name) : name);
    } else {
      out[rel] = `file ${st.mode.toString(8)} ${sha256Hex(await readFile(abs))}`;
    }
  }
  await walk("");
  return out;
}

/** Fills `dir` with a sub folder and `files`, then checks that `open()` refuses it and leaves it byte-identical. */
export async function expectRefusedUntouched(dir: string, files: Record<string, string>, open: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await mkdir(join(dir, "sub"), { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  const before = await snapshotTree(dir);
  await expectError(open(), "EUNSUPPORTED", pattern);
  assert.deepEqual(await snapshotTree(dir), before);
}

export interface ManifestJson {
  mediaType?: string;
  config: { digest: string; size: number; mediaType: string };
  layers: { digest: string; size: number; mediaType: string }[];
}

export interface FeedOptions {
  /** Replaces the manifest before it is written (e.g. to make a distinct image). */
  editManifest?: (m: Record<string, unknown>) => Record<string, unknown>;
  /** Sends layers with a placeholder digest, as the engine does for layers it compresses. */
  placeholders?: boolean;
  /** Stops before commit (the caller commits or closes). */
  noCommit?: boolean;
}

/**
 * Drives a destination the way the engine does, without the engine: every blob of `src`'s image
 * as it is (reused when the destination has it; concurrently when it allows), then the manifest, then commit.
 */
export async function feedImage(
  src: ImageSource,
  dest: ImageDestination,
  opts: FeedOptions = {},
): Promise<{ reused: string[]; written: string[]; manifestBytes: Uint8Array }> {
  const { bytes, mediaType } = await src.getManifest();
  const manifest = JSON.parse(Buffer.from(bytes).toString("utf8")) as ManifestJson;
  const reused: string[] = [];
  const written: string[] = [];
  const blobs = [...manifest.layers.map((l) => ({ ...l, isConfig: false })), { ...manifest.config, isConfig: true }];
  const one = async (b: (typeof blobs)[number]): Promise<void> => {
    const info = { digest: b.digest, size: b.size, mediaType: b.mediaType };
    if (await dest.tryReusingBlob(info)) {
      reused.push(b.digest);
      return;
    }
    const { stream } = await src.getBlob(info);
    const sent = opts.placeholders && !b.isConfig ? { digest: "sha256:placeholder", size: -1, placeholder: true } : info;
    const stored = await dest.putBlob(stream, sent, { isConfig: b.isConfig });
    if (stored.digest !== b.digest || stored.size !== b.size) throw new Error(`putBlob stored ${stored.digest}/${stored.size} for ${b.digest}/${b.size}`);
    written.push(b.digest);
  };
  // As the engine does: concurrently only when the destination allows it, else one by one in manifest order.
  if (dest.hasThreadSafePutBlob()) await Promise.all(blobs.map(one));
  else for (const b of blobs) await one(b);
  const out = opts.editManifest ? Buffer.from(JSON.stringify(opts.editManifest(JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>))) : bytes;
  await dest.putManifest(out, mediaType);
  if (!opts.noCommit) await dest.commit();
  return { reused, written, manifestBytes: out };
}
