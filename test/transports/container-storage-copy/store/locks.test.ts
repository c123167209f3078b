import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { containerCopyTransport } from "../../../../transports/container-storage-copy/index.js";
import { lockStoreForReading } from "../../../../transports/container-storage-copy/store/locks.js";
import { tempDir } from "../../../helpers/tools.js";
import { holdWriteLock, writerCouldLock } from "./write-lock-holder.js";
import { buildScratchContainer, createStore, type Store } from "../../../helpers/buildah-store.js";
import { isImgcopyError } from "../../../../src/errors.js";

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

  it("says once that it waits, and gives up with AbortedError as soon as ctx.signal aborts", async () => {
    const writer = await holdWriteLock(layersLock);
    try {
      const controller = new AbortController();
      const warnings: string[] = [];
      // The notice comes after about a second of waiting; aborting then proves the wait listens to the signal.
      const warn = (m: string): void => {
        warnings.push(m);
        controller.abort();
      };
      await assert.rejects(ref().newImageSource({ lockTimeoutMs: 600_000, signal: controller.signal, warn }), (err: unknown) => {
        assert.ok(isImgcopyError(err));
        assert.equal(err.code, "EABORT");
        assert.equal(err.message, `waiting for the lock on ${layersLock}: aborted`);
        return true;
      });
      assert.deepEqual(warnings, [`waiting for the lock on ${layersLock} (held by another process)...`]);
      assert.equal(await writerCouldLock(layersLock), false, "the writer still holds the lock: the wait ended on the abort, not on it");
    } finally {
      await writer.stop();
    }
    assert.ok(await writerCouldLock(layersLock), "an aborted open leaves no lock behind");
  });

  it("lets list() be aborted while it waits for a lock", async () => {
    const writer = await holdWriteLock(imagesLock);
    try {
      const controller = new AbortController();
      const warnings: string[] = [];
      const listing = containerCopyTransport.list!(store.bracket, {
        lockTimeoutMs: 600_000,
        signal: controller.signal,
        warn: (m) => {
          warnings.push(m);
          controller.abort();
        },
      });
      await assert.rejects(listing, (err: unknown) => isImgcopyError(err) && err.code === "EABORT");
      assert.deepEqual(warnings, [`waiting for the lock on ${imagesLock} (held by another process)...`]);
    } finally {
      await writer.stop();
    }
    assert.ok(await writerCouldLock(layersLock), "an aborted list leaves no lock behind");
  });

  it("does not start waiting when ctx.signal is already aborted", async () => {
    const writer = await holdWriteLock(layersLock);
    try {
      const warnings: string[] = [];
      await assert.rejects(
        ref().newImageSource({ lockTimeoutMs: 600_000, signal: AbortSignal.abort(), warn: (m) => warnings.push(m) }),
        (err: unknown) => isImgcopyError(err) && err.code === "EABORT",
      );
      assert.deepEqual(warnings, []);
    } finally {
      await writer.stop();
    }
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
