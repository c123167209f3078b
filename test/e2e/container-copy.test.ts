// End to end: `imgcopy container-copy:[store]CONTAINER DEST` on real buildah stores (vfs, overlay),
// checked against what buildah commit, skopeo, umoci and podman make of the same container.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  buildBaseImage,
  buildChangedContainer,
  commitContainer,
  createStore,
  skopeoCopy,
  skopeoInspect,
  type BaseImage,
  type Store,
  type StorageDriver,
  type WorkingContainer,
} from "../helpers/buildah-store.js";
import { compareTrees, copyTreeExactly, formatDifferences, unpackWithUmoci } from "../helpers/tree-compare.js";
import { readOciImage, recomputedDiffIds, type ImageConfig } from "../helpers/oci-layout-read.js";
import { tempDir } from "../helpers/tools.js";
import { imgcopy, stderrLines, type CliResult } from "../cli/run-imgcopy.js";
import { holdWriteLock } from "../transports/container-storage-copy/store/write-lock-holder.js";

/** The config fields a user sets with `buildah config`, which an export must carry as buildah commit does. */
const CONFIG_FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "Labels", "User", "ExposedPorts", "Volumes", "StopSignal"] as const;

function assertCopied(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (exit ${r.code}): ${r.stderr}`);
}

async function imageConfigOf(ref: string): Promise<ImageConfig> {
  return (await skopeoInspect(ref, ["--config"])) as unknown as ImageConfig;
}

for (const driver of ["vfs", "overlay"] as StorageDriver[]) {
  describe(`container-copy from a ${driver} store`, () => {
    let store: Store;
    let podmanStore: Store;
    let base: BaseImage;
    let ctr: WorkingContainer;
    let work: { path: string; cleanup: () => Promise<void> };
    let ociOut: string;
    let exported: CliResult;
    const committed = "localhost/committed:1";

    before(async () => {
      work = await tempDir("imgcopy-e2e-ctr-");
      store = await createStore(driver);
      podmanStore = await createStore("vfs");
      base = await buildBaseImage(store);
      ctr = await buildChangedContainer(store, base);
      ociOut = join(work.path, "ctr-oci");
      exported = await imgcopy(["copy", "--quiet", store.containerCopyRef(ctr.name), `oci:${ociOut}:x`]);
      await commitContainer(store, ctr.name, committed);
    });
    after(async () => {
      await store?.cleanup();
      await podmanStore?.cleanup();
      await work?.cleanup();
    });

    it("exports the container's files exactly: type, content, mode, owner, link target, xattrs, mtime", async () => {
      assertCopied(exported, "container-copy to oci");
      const rootfs = await unpackWithUmoci(ociOut, "x", join(work.path, "ctr-unpacked"));
      const diffs = await compareTrees(ctr.mountPoint, rootfs, { ignoreRoot: true });
      assert.deepEqual(diffs, [], `the exported image differs from the container:\n${formatDifferences(diffs)}`);
    });

    it("keeps the base layers' DiffIDs equal to the store's diff-digest, and every DiffID matches its blob", async () => {
      assertCopied(exported, "container-copy to oci");
      const image = await readOciImage(ociOut, "x");
      const baseConfig = await imageConfigOf(store.containersStorageRef(base.name));
      const diffIds = image.config.rootfs.diff_ids;
      assert.equal(diffIds.length, 3, "two base layers and the container's layer");
      assert.deepEqual(diffIds.slice(0, 2), baseConfig.rootfs.diff_ids);
      const records = JSON.parse(await readFile(join(store.graphRoot, `${driver}-layers`, "layers.json"), "utf8")) as Array<Record<string, string>>;
      for (const d of baseConfig.rootfs.diff_ids) assert.ok(records.some((r) => r["diff-digest"] === d), `layers.json has diff-digest ${d}`);
      assert.deepEqual(await recomputedDiffIds(ociOut, image), diffIds);
      assert.equal(image.manifest.layers.length, 3);
    });

    it("exports a buildah-committed image with the same DiffIDs as skopeo copy", async () => {
      const ours = join(work.path, "committed-imgcopy");
      const theirs = join(work.path, "committed-skopeo");
      assertCopied(await imgcopy(["copy", "--quiet", store.containerCopyRef(committed), `oci:${ours}:c`]), "container-copy of an image");
      await skopeoCopy(store.containersStorageRef(committed), `oci:${theirs}:c`);
      const [a, b] = [await readOciImage(ours, "c"), await readOciImage(theirs, "c")];
      assert.deepEqual(a.config.rootfs.diff_ids, b.config.rootfs.diff_ids);
      assert.deepEqual(await recomputedDiffIds(ours, a), a.config.rootfs.diff_ids);
    });

    it("writes the config fields that buildah commit writes for the same container", async () => {
      assertCopied(exported, "container-copy to oci");
      const ours = (await readOciImage(ociOut, "x")).config.config;
      const buildahs = (await imageConfigOf(store.containersStorageRef(committed))).config;
      for (const field of CONFIG_FIELDS) assert.deepEqual(ours[field], buildahs[field], `config.${field}`);
    });

    it("exports a docker-archive that podman load accepts, with the same layers", async () => {
      const archive = join(work.path, "ctr.tar");
      assertCopied(await imgcopy(["copy", "--quiet", store.containerCopyRef(ctr.id), `docker-archive:${archive}:e2e/changed:1`]), "container-copy to docker-archive");
      const loaded = await podmanStore.podman(["load", "--quiet", "--input", archive]);
      assert.match(loaded, /e2e\/changed:1/);
      const layers = JSON.parse(await podmanStore.podman(["image", "inspect", "--format", "{{json .RootFS.Layers}}", "e2e/changed:1"])) as string[];
      const archived = await imageConfigOf(`docker-archive:${archive}`);
      assert.equal(layers.length, 3);
      assert.deepEqual(layers, archived.rootfs.diff_ids);
    });
  });
}

describe("container-copy errors: one clear stderr line, non-zero exit, destination untouched", () => {
  let work: { path: string; cleanup: () => Promise<void> };
  let store: Store;
  let base: BaseImage;
  /** An OCI layout that already holds an image: a failed copy into it must leave it as it was. */
  let existing: string;
  let existingCopy: string;

  before(async () => {
    work = await tempDir("imgcopy-e2e-errors-");
    store = await createStore("vfs");
    base = await buildBaseImage(store);
    await store.buildah(["from", "--pull=never", "--name", "plain", base.name]);
    existing = join(work.path, "existing-oci");
    existingCopy = join(work.path, "saved", "existing-oci");
    await skopeoCopy(store.containersStorageRef(base.name), `oci:${existing}:old`);
    await mkdir(dirname(existingCopy), { recursive: true });
    await copyTreeExactly(existing, existingCopy);
  });
  after(async () => {
    await store?.cleanup();
    await work?.cleanup();
  });

  /** Runs a copy that must fail; checks the exit, the single stderr line naming `mentions`, and the destinations. */
  async function assertFailsCleanly(src: string, mentions: string[]): Promise<void> {
    for (const dest of [join(work.path, "fresh-oci"), existing]) {
      const listing = await readdir(work.path);
      const r = await imgcopy(["copy", "--quiet", src, `oci:${dest}:new`]);
      assert.notEqual(r.code, 0, `copy of ${src} should fail`);
      assert.equal(r.signal, null);
      const lines = stderrLines(r);
      assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
      for (const m of mentions) assert.ok(lines[0]?.includes(m), `stderr names ${m}: ${lines[0]}`);
      assert.equal(r.stdout, "");
      assert.deepEqual(await readdir(work.path), listing, "nothing created or left beside the destination");
      if (dest === existing) {
        const diffs = await compareTrees(existingCopy, existing, { ignoreDirMtime: true });
        assert.deepEqual(diffs, [], `the existing destination changed:\n${formatDifferences(diffs)}`);
      } else {
        assert.equal(existsSync(dest), false, `${dest} was created`);
      }
    }
  }

  async function layerIds(s: Store, image: string): Promise<string[]> {
    const cfg = await imageConfigOf(s.containersStorageRef(image));
    const records = JSON.parse(await readFile(join(s.graphRoot, "vfs-layers", "layers.json"), "utf8")) as Array<Record<string, string>>;
    return cfg.rootfs.diff_ids.map((d) => records.find((r) => r["diff-digest"] === d)?.id ?? "");
  }

  it("an unknown container", async () => {
    await assertFailsCleanly(store.containerCopyRef("no-such-container"), ["no-such-container"]);
  });

  it("an unknown store path", async () => {
    const missing = join(work.path, "no-such-store");
    await assertFailsCleanly(`container-copy:[vfs@${missing}/graph+${missing}/run]plain`, [`${missing}/graph`]);
  });

  it("an unsupported storage driver", async () => {
    await assertFailsCleanly(`container-copy:[btrfs@${store.graphRoot}+${store.runRoot}]plain`, ["btrfs"]);
  });

  it("a corrupted tar-split file", async () => {
    const s = await createStore("vfs");
    try {
      const b = await buildBaseImage(s, "split");
      await s.buildah(["from", "--pull=never", "--name", "victim", b.name]);
      const [bottom] = await layerIds(s, b.name);
      assert.ok(bottom);
      const file = join(s.graphRoot, "vfs-layers", `${bottom}.tar-split.gz`);
      const bytes = await readFile(file);
      await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2))); // a truncated gzip stream
      await assertFailsCleanly(s.containerCopyRef("victim"), [bottom.slice(0, 12)]);
    } finally {
      await s.cleanup();
    }
  });

  it("a layer file whose content no longer matches its tar-split CRC", async () => {
    const s = await createStore("vfs");
    try {
      const b = await buildBaseImage(s, "crc");
      await s.buildah(["from", "--pull=never", "--name", "victim", b.name]);
      const [bottom] = await layerIds(s, b.name);
      assert.ok(bottom);
      const group = join(s.graphRoot, "vfs", "dir", bottom, "etc/group");
      const text = await readFile(group, "utf8");
      await writeFile(group, text.replace("root", "ROOT")); // same size, different bytes
      await assertFailsCleanly(s.containerCopyRef("victim"), ["etc/group"]);
    } finally {
      await s.cleanup();
    }
  });
});

describe("container-copy next to podman, skopeo and a busy store", () => {
  let work: { path: string; cleanup: () => Promise<void> };
  let store: Store;
  let ctr: WorkingContainer;
  const image = "localhost/stored:1";

  before(async () => {
    work = await tempDir("imgcopy-e2e-store-");
    store = await createStore("vfs");
    const base = await buildBaseImage(store);
    ctr = await buildChangedContainer(store, base);
    await commitContainer(store, ctr.name, image);
  });
  after(async () => {
    await store?.cleanup();
    await work?.cleanup();
  });

  it("gives an image the digest skopeo inspect and podman images --digests show, and keeps it with --preserve-digests", async () => {
    const skopeos = (await skopeoInspect(store.containersStorageRef(image))).Digest;
    const podmans = await store.podman(["images", "--digests", "--format", "{{.Digest}}", image]);
    assert.equal(podmans, skopeos);
    const inspected = await imgcopy(["inspect", store.containerCopyRef(image)]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.equal((JSON.parse(inspected.stdout) as { Digest: string }).Digest, skopeos);
    assert.equal(inspected.stderr, "");
    const out = join(work.path, "preserved");
    assertCopied(await imgcopy(["copy", "--quiet", "--preserve-digests", store.containerCopyRef(image), `oci:${out}:p`]), "copy --preserve-digests");
    const index = JSON.parse(await readFile(join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, skopeos);
  });

  it("notes on stderr that an inspected container's read-write layer digest is a placeholder", async () => {
    const note = `imgcopy: note: ${store.containerCopyRef(ctr.name)}: the container's read-write layer is not read by inspect; its digest and size in this output are placeholders (export the image to get real ones)`;
    for (const flags of [[], ["--config"], ["--raw"]]) {
      const r = await imgcopy(["inspect", ...flags, store.containerCopyRef(ctr.name)]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(stderrLines(r), [note], `inspect ${flags.join(" ")}`);
    }
    const copied = await imgcopy(["copy", "--quiet", store.containerCopyRef(ctr.name), `oci:${join(work.path, "noted")}:n`]);
    assertCopied(copied, "container-copy");
    assert.equal(copied.stderr, "", "a copy computes the real digests: nothing to note");
  });

  it("stops waiting for a busy store's lock on Ctrl-C, long before --lock-timeout", async () => {
    const layersLock = join(store.graphRoot, "vfs-layers", "layers.lock");
    const writer = await holdWriteLock(layersLock);
    const dest = join(work.path, "interrupted");
    let r: CliResult;
    try {
      // SIGINT once imgcopy says it waits: the wait must end on it, not on the timeout (then "busy", exit 6).
      r = await imgcopy(["copy", "--lock-timeout", "60", store.containerCopyRef(ctr.name), `oci:${dest}:t`], {
        onStderr: (text, child) => {
          if (text.includes("waiting for the lock on")) child.kill("SIGINT");
        },
      });
    } finally {
      await writer.stop();
    }
    assert.equal(r.code, 130, r.stderr);
    assert.deepEqual(stderrLines(r), [
      `imgcopy: warning: waiting for the lock on ${layersLock} (held by another process)...`,
      "imgcopy: interrupted by SIGINT; the destination was left as it was",
    ]);
    assert.equal(existsSync(dest), false);
  });
});
