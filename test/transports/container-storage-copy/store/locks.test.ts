import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { containerCopyTransport } from "../../../../transports/container-storage-copy/index.js";
import { lockStoreForReading } from "../../../../transports/container-storage-copy/store/locks.js";
import { requireTool, run, tempDir } from "../../../helpers/tools.js";
import { buildScratchContainer, createStore, type Store } from "../../../helpers/buildah-store.js";
import { isImgcopyError } from "../../../../src/errors.js";

/** A python3 process holding an fcntl WRITE lock on `path` (as a podman/buildah writer does) until stopped. */
async function holdWriteLock(path: string): Promise<{ stop: () => Promise<void> }> {
  requireTool("python3");
  const script = "import fcntl,sys\nf=open(sys.argv[1],'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\nsys.stdin.read()\n";
  const child: ChildProcess = spawn("python3", ["-c", script, path], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout!.setEncoding("utf8");
  while (!out.includes("locked")) {
    const [chunk] = (await once(child.stdout!, "data")) as [string];
    out += chunk;
  }
  return {
    stop: async () => {
      child.stdin!.end();
      if (child.exitCode === null) await once(child, "exit");
    },
  };
}

/** Whether another process could take a WRITE lock on `path` right now (non-blocking). */
async function writerCouldLock(path: string): Promise<boolean> {
  const script =
    "import fcntl,sys\nf=open(sys.argv[1],'r+')\ntry:\n  fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB)\n  print('free')\nexcept OSError:\n  print('held')\n";
  const { stdout } = await run("python3", ["-c", script, path]);
  return stdout.trim() === "free";
}

describe("store locks", () => {
  let store: Store;
  let layersLock: string;
  let imagesLock: string;
  before(async () => {
    store = await createStore("vfs");
    await buildScratchContainer(store, "locked-ctr");
    layersLock = join(store.graphRoot, "vfs-layers", "layers.lock");
    imagesLock = join(store.graphRoot, "vfs-images", "images.lock");
  });
  after(() => store.cleanup());

  const ref = () => containerCopyTransport.parseReference(`${store.bracket}locked-ctr`);

  it("gives up with StoreBusyError when a writer holds layers.lock past the timeout", async () => {
    const writer = await holdWriteLock(layersLock);
    try {
      await assert.rejects(ref().newImageSource({ lockTimeoutMs: 200 }), (err: unknown) => {
        assert.ok(isImgcopyError(err));
        assert.equal(err.code, "EBUSY");
        assert.equal(err.message, `store ${store.graphRoot} is busy: layers.lock is held by a writer (waited 0.2s)`);
        return true;
      });
    } finally {
      await writer.stop();
    }
    assert.ok(await writerCouldLock(imagesLock), "a failed open leaves no lock behind");
  });

  it("waits for a writer that finishes within the timeout", async () => {
    const writer = await holdWriteLock(imagesLock);
    const opening = ref().newImageSource({ lockTimeoutMs: 60_000 });
    let opened = false;
    void opening.then(() => (opened = true), () => {});
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(opened, false, "open waits while images.lock is write-locked");
    await writer.stop();
    const src = await opening;
    await src.close();
  });

  it("keeps layers.lock read-locked until close(), and releases the records' locks after open", async () => {
    const src = await ref().newImageSource({});
    try {
      assert.equal(await writerCouldLock(layersLock), false);
      assert.equal(await writerCouldLock(imagesLock), true);
    } finally {
      await src.close();
    }
    assert.equal(await writerCouldLock(layersLock), true);
  });

  it("shares one lock per file within the process: closing one source keeps the other's lock", async () => {
    const a = await ref().newImageSource({});
    const b = await ref().newImageSource({});
    await a.close();
    await a.close();
    assert.equal(await writerCouldLock(layersLock), false, "b still holds the read lock");
    await b.close();
    assert.equal(await writerCouldLock(layersLock), true);
  });

  it("never creates a missing lock file", async () => {
    const dir = await tempDir("imgcopy-nolocks-");
    try {
      const g = join(dir.path, "g");
      await mkdir(join(g, "vfs-layers"), { recursive: true });
      const locks = await lockStoreForReading(
        { driver: "vfs", graphRoot: g, runRoot: join(dir.path, "r"), additionalImageStores: [], transientStore: false },
        {},
      );
      await locks.releaseAll();
      assert.equal(existsSync(join(g, "vfs-layers", "layers.lock")), false);
      assert.equal(existsSync(join(g, "vfs-images")), false);
    } finally {
      await dir.cleanup();
    }
  });
});
