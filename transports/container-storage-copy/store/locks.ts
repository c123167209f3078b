// Read locks on a store's *.lock files, interoperating with podman/buildah/skopeo: POSIX fcntl
// locks through the optional os-lock addon, taken without blocking and retried every 10 ms.
// fcntl locks belong to the process and closing any descriptor of the file drops them, so each
// lock file is opened once per process and shared by reference count.
import { open, realpath, type FileHandle } from "node:fs/promises";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AbortedError, StoreBusyError, describeFsError } from "../../../src/errors.js";
import type { SystemContext } from "../../../src/types.js";
import type { StoreLocation } from "./record-types.js";

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
const RETRY_MS = 10;
/** After this long waiting for a lock, the user is told why nothing happens. */
export const WAIT_NOTICE_MS = 1_000;

interface FcntlLocker {
  lock(fd: number, options: { exclusive?: boolean; immediate?: boolean }): Promise<void>;
  unlock(fd: number): Promise<void>;
}

let addon: Promise<FcntlLocker | undefined> | undefined;
let warnedMissing = false;

async function loadAddon(): Promise<FcntlLocker | undefined> {
  addon ??= (async () => {
    try {
      const m = await import("os-lock");
      return { lock: m.lock, unlock: m.unlock } as FcntlLocker;
    } catch {
      return undefined;
    }
  })();
  return addon;
}

interface HeldFile {
  handle: FileHandle;
  refs: number;
}

/** Lock files this process holds, by real path. */
const held = new Map<string, HeldFile>();
/** Per-path queue, so that acquiring and releasing one file never interleave. */
const queues = new Map<string, Promise<unknown>>();

function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => {});
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return next;
}

/** A held read lock; release() is safe to call twice. */
export interface ReadLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface LockOptions {
  timeoutMs: number;
  /** Names the store in the "busy" message. */
  storeName: string;
  warn: (message: string) => void;
  signal?: AbortSignal;
  /** Shared by the locks of one store, so that a slow wait is announced once. */
  notice?: { given: boolean };
}

/**
 * Takes a shared (read) fcntl lock on `path`. Undefined when the lock file does not exist (a
 * reader never creates one). Without the os-lock addon: warns once and returns a no-op lock.
 */
export async function acquireReadLock(path: string, opts: LockOptions): Promise<ReadLock | undefined> {
  let key: string;
  try {
    key = await realpath(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw describeFsError(err, `lock file ${path}`);
  }
  const locker = await loadAddon();
  if (!locker) {
    if (!warnedMissing) {
      warnedMissing = true;
      opts.warn("the os-lock addon is not available: reading the store without locks (a concurrent podman/buildah may change it meanwhile)");
    }
    return { path, release: async () => {} };
  }
  await serialized(key, async () => {
    const existing = held.get(key);
    if (existing) {
      existing.refs++;
      return;
    }
    const handle = await openLockFile(path);
    try {
      await lockWithRetry(locker, handle.fd, path, opts);
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
    held.set(key, { handle, refs: 1 });
  });
  let released = false;
  return {
    path,
    release: async () => {
      if (released) return;
      released = true;
      await serialized(key, async () => {
        const h = held.get(key);
        if (!h || --h.refs > 0) return;
        held.delete(key);
        await locker.unlock(h.handle.fd).catch(() => {});
        await h.handle.close().catch(() => {});
      });
    },
  };
}

async function openLockFile(path: string): Promise<FileHandle> {
  try {
    // Read-only: F_RDLCK needs read access, and a reader must never create or modify the file.
    return await open(path, "r");
  } catch (err) {
    throw describeFsError(err, `lock file ${path}`);
  }
}

async function lockWithRetry(locker: FcntlLocker, fd: number, path: string, opts: LockOptions): Promise<void> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const notice = opts.notice ?? { given: false };
  while (true) {
    if (opts.signal?.aborted) throw new AbortedError(`waiting for the lock on ${path}: aborted`);
    try {
      await locker.lock(fd, { exclusive: false, immediate: true });
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EAGAIN" && code !== "EACCES" && code !== "EBUSY") throw describeFsError(err, `locking ${path}`);
    }
    if (Date.now() >= deadline) {
      throw new StoreBusyError(
        `store ${opts.storeName} is busy: ${basename(path)} is held by a writer (waited ${formatSeconds(opts.timeoutMs)})`,
      );
    }
    if (!notice.given && Date.now() - started >= WAIT_NOTICE_MS) {
      notice.given = true;
      opts.warn(`waiting for the lock on ${path} (held by another process)...`);
    }
    try {
      await sleep(RETRY_MS, undefined, opts.signal ? { signal: opts.signal } : undefined);
    } catch (err) {
      throw new AbortedError(`waiting for the lock on ${path}: aborted`, { cause: err });
    }
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** The read locks of one store, in containers/storage's order: layers, images, containers. */
export interface StoreReadLocks {
  /** Releases images.lock and containers.lock once the records are read; layers.lock stays. */
  releaseRecordLocks(): Promise<void>;
  /** Releases every lock still held. Safe to call twice. */
  releaseAll(): Promise<void>;
}

/** Waits as long as ctx.lockTimeoutMs says, and no longer than ctx.signal lets it. */
export async function lockStoreForReading(location: StoreLocation, ctx: SystemContext): Promise<StoreReadLocks> {
  const d = location.driver;
  const stores = [location.graphRoot, ...location.additionalImageStores];
  const layerFiles = stores.map((root) => ({ root, file: join(root, `${d}-layers`, "layers.lock") }));
  const recordFiles = [
    ...stores.map((root) => ({ root, file: join(root, `${d}-images`, "images.lock") })),
    { root: location.graphRoot, file: join(location.graphRoot, `${d}-containers`, "containers.lock") },
  ];
  const layerLocks: ReadLock[] = [];
  const recordLocks: ReadLock[] = [];
  const releaseEach = async (locks: ReadLock[]): Promise<void> => {
    for (const l of locks.splice(0).reverse()) await l.release();
  };
  const base: Omit<LockOptions, "storeName"> = {
    timeoutMs: ctx.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    warn: ctx.warn ?? (() => {}),
    signal: ctx.signal,
    notice: { given: false },
  };
  try {
    for (const { root, file } of layerFiles) {
      const l = await acquireReadLock(file, { ...base, storeName: root });
      if (l) layerLocks.push(l);
    }
    for (const { root, file } of recordFiles) {
      const l = await acquireReadLock(file, { ...base, storeName: root });
      if (l) recordLocks.push(l);
    }
  } catch (err) {
    await releaseEach(recordLocks);
    await releaseEach(layerLocks);
    throw err;
  }
  return {
    releaseRecordLocks: () => releaseEach(recordLocks),
    releaseAll: async () => {
      await releaseEach(recordLocks);
      await releaseEach(layerLocks);
    },
  };
}
