// End to end: an image built by buildah and exported by skopeo to oci, dir and docker-archive is
// copied by imgcopy across every pair of those transports in both manifest formats; skopeo, umoci
// and podman read every result back, and it is compared file by file with the original.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  buildBaseImage,
  buildScratchContainer,
  commitContainer,
  createStore,
  skopeoCopy,
  skopeoInspect,
  type Store,
} from "../helpers/buildah-store.js";
import { compareTrees, copyTreeExactly, formatDifferences, unpackWithUmoci } from "../helpers/tree-compare.js";
import type { ImageConfig, OciImage } from "../helpers/oci-layout-read.js";
import { tempDir } from "../helpers/tools.js";
import { imgcopy, stderrLines } from "../cli/run-imgcopy.js";

type Transport = "oci" | "dir" | "docker-archive";
type Format = "oci" | "v2s2";
const TRANSPORTS: Transport[] = ["oci", "dir", "docker-archive"];
const FORMATS: Format[] = ["oci", "v2s2"];
const CONFIG_MEDIA_TYPE: Record<Format, string> = {
  oci: "application/vnd.oci.image.config.v1+json",
  v2s2: "application/vnd.docker.container.image.v1+json",
};

/** Combinations a destination refuses, as the formats doc says: oci layouts hold OCI manifests, docker archives Docker ones. */
const refused = (dest: Transport, format: Format) => (dest === "oci" && format === "v2s2") || (dest === "docker-archive" && format === "oci");

describe("copies between oci, dir and docker-archive in both manifest formats", () => {
  let work: { path: string; cleanup: () => Promise<void> };
  let store: Store;
  let podmanStore: Store;
  /** The image's files as buildah sees them: a working container's mounted root. */
  let original: string;
  let originalDiffIds: string[];
  const sources: Record<Transport, string> = { oci: "", dir: "", "docker-archive": "" };

  const destRef = (t: Transport, path: string, name: string) =>
    t === "oci" ? `oci:${path}:${name}` : t === "dir" ? `dir:${path}` : `docker-archive:${path}:e2e/${name}:1`;

  before(async () => {
    work = await tempDir("imgcopy-e2e-formats-");
    store = await createStore("vfs");
    podmanStore = await createStore("vfs");
    const base = await buildBaseImage(store);
    await store.buildah(["from", "--pull=never", "--name", "original", base.name]);
    original = await store.buildah(["mount", "original"]);
    await mkdir(join(work.path, "src"));
    for (const t of TRANSPORTS) {
      sources[t] = destRef(t, join(work.path, "src", t === "docker-archive" ? "image.tar" : t), "base");
      await skopeoCopy(store.containersStorageRef(base.name), sources[t]);
    }
    sources["docker-archive"] = `docker-archive:${join(work.path, "src", "image.tar")}`;
    originalDiffIds = ((await skopeoInspect(sources.oci, ["--config"])) as unknown as ImageConfig).rootfs.diff_ids;
  });
  after(async () => {
    await store?.cleanup();
    await podmanStore?.cleanup();
    await work?.cleanup();
  });

  for (const from of TRANSPORTS) {
    for (const to of TRANSPORTS) {
      for (const format of FORMATS) {
        const name = `${from}-to-${to}-${format}`;
        it(`${from} -> ${to} --format ${format}`, async () => {
          const path = join(work.path, "out", to === "docker-archive" ? `${name}.tar` : name);
          await mkdir(join(work.path, "out"), { recursive: true });
          const dest = destRef(to, path, name);
          const r = await imgcopy(["copy", "--quiet", "--format", format, sources[from], dest]);
          if (refused(to, format)) {
            assert.notEqual(r.code, 0, `${to} should refuse --format ${format}`);
            assert.equal(stderrLines(r).length, 1, r.stderr);
            assert.equal(existsSync(path), false, `${path} was created`);
            return;
          }
          assert.equal(r.code, 0, `copy failed (exit ${r.code}): ${r.stderr}`);
          const readRef = to === "docker-archive" ? `docker-archive:${path}` : dest;
          const raw = (await skopeoInspect(readRef, ["--raw"])) as unknown as OciImage["manifest"];
          assert.equal(raw.config.mediaType, CONFIG_MEDIA_TYPE[format]);
          assert.equal(raw.layers.length, originalDiffIds.length);
          const info = await skopeoInspect(readRef);
          assert.equal((info.Layers as string[]).length, originalDiffIds.length);
          const config = (await skopeoInspect(readRef, ["--config"])) as unknown as ImageConfig;
          assert.deepEqual(config.rootfs.diff_ids, originalDiffIds);
          const check = join(work.path, "check", name);
          await skopeoCopy(readRef, `oci:${check}:x`);
          const rootfs = await unpackWithUmoci(check, "x", join(work.path, "unpacked", name));
          const diffs = await compareTrees(original, rootfs, { ignoreRoot: true });
          assert.deepEqual(diffs, [], `the copy differs from the original:\n${formatDifferences(diffs)}`);
          if (to === "docker-archive") {
            assert.match(await podmanStore.podman(["load", "--quiet", "--input", path]), new RegExp(`e2e/${name}:1`));
          }
        });
      }
    }
  }

  describe("a corrupted layer blob in the source", () => {
    let corrupt: Record<"oci" | "dir", string>;
    /** The corrupted layer's digest in each source (skopeo compresses layers in oci, not in dir). */
    const badDigest: Record<"oci" | "dir", string> = { oci: "", dir: "" };
    /** Per destination transport, a folder holding another image (no blob of the source to reuse). */
    const saved: Record<Transport, string> = { oci: "", dir: "", "docker-archive": "" };

    before(async () => {
      corrupt = { oci: join(work.path, "corrupt", "oci"), dir: join(work.path, "corrupt", "dir") };
      for (const t of ["oci", "dir"] as const) {
        const layer = ((await skopeoInspect(sources[t], ["--raw"])) as unknown as OciImage["manifest"]).layers[0];
        assert.ok(layer);
        badDigest[t] = layer.digest;
        const hex = layer.digest.slice("sha256:".length);
        await cp(join(work.path, "src", t), corrupt[t], { recursive: true });
        const blob = t === "oci" ? join(corrupt[t], "blobs", "sha256", hex) : join(corrupt[t], hex);
        const bytes = await readFile(blob);
        const at = Math.floor(bytes.length / 2);
        bytes[at] = (bytes[at] ?? 0) ^ 0xff; // same size, different bytes
        await writeFile(blob, bytes);
      }
      const other = await buildScratchContainer(store);
      await commitContainer(store, other.name, "localhost/other:1");
      for (const t of TRANSPORTS) {
        saved[t] = join(work.path, "corrupt", "saved", t);
        await skopeoCopy(store.containersStorageRef("localhost/other:1"), destRef(t, existingTarget(t, saved[t]), "other"));
      }
    });

    /** The destination path inside a folder made for it: the folder itself, or an archive in it. */
    function existingTarget(t: Transport, folder: string): string {
      return t === "docker-archive" ? join(folder, "image.tar") : folder;
    }

    for (const from of ["oci", "dir"] as const) {
      for (const to of TRANSPORTS) {
        it(`fails ${from} -> ${to}, naming the digest, leaving new and existing destinations as they were`, async () => {
          const src = from === "oci" ? `oci:${corrupt.oci}:base` : `dir:${corrupt.dir}`;
          const outDir = join(work.path, "corrupt", "out", `${from}-${to}`);
          const existingFolder = join(outDir, "existing");
          await mkdir(outDir, { recursive: true });
          await copyTreeExactly(saved[to], existingFolder);
          const fresh = join(outDir, to === "docker-archive" ? "fresh.tar" : "fresh");
          for (const path of [fresh, existingTarget(to, existingFolder)]) {
            const before = await readdir(outDir);
            const r = await imgcopy(["copy", "--quiet", src, destRef(to, path, "bad")]);
            assert.notEqual(r.code, 0, `a corrupted blob must fail the copy (${r.stderr})`);
            const lines = stderrLines(r);
            assert.equal(lines.length, 1, r.stderr);
            const hex = badDigest[from].slice("sha256:".length);
            // docker-archive refuses an existing non-empty archive before reading any blob (as skopeo does).
            const refused = to === "docker-archive" && path !== fresh;
            const expected = refused ? "exists and is not empty; docker-archive does not modify existing archives" : hex;
            assert.ok(lines[0]?.includes(expected), `stderr says ${refused ? "it refuses" : `names ${badDigest[from]}`}: ${lines[0]}`);
            assert.deepEqual(await readdir(outDir), before, "nothing left beside the destination");
          }
          assert.equal(existsSync(fresh), false, `${fresh} was created`);
          const diffs = await compareTrees(saved[to], existingFolder, { ignoreDirMtime: true });
          assert.deepEqual(diffs, [], `the existing destination changed:\n${formatDifferences(diffs)}`);
        });
      }
    }
  });
});
