// An exclusive lock on a file that is read, changed and written back (an OCI layout's index.json, an
// auth file), across processes (fcntl via os-lock, or an O_EXCL lock file when the addon did not
// build) and within this process (fcntl locks are per process).
import { open, readFile, stat, unlink, type FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { StoreBusyError, describeFsError } from "./errors.js";

export interface FileLockOptions {
  /** Give up after this long (ms). */
  timeoutMs: number;
  /** Names the locked thing in errors. */
  what: string;
  warn?: ((message: string) => void) | undefined;
}

type Release = () => Promise<void>;

interface OsLock {
  lock(fd: number, options: { exclusive?: boolean; immediate?: boolean }): Promise<void>;
}

// Shared through globalThis so that two copies of this module (src and dist) still exclude each other.
const MUTEXES_KEY = Symbol.for("imgcopy.file-lock.mutexes");
const mutexes: Map<string, Promise<void>> = ((globalThis as Record<symbol, unknown>)[MUTEXES_KEY] as Map<string, Promise<void>> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[MUTEXES_KEY] = new Map<string, Promise<void>>());

let osLockLoad: Promise<OsLock | undefined> | undefined;
let warnedFallback = false;

function loadOsLock(): Promise<OsLock | undefined> {
  osLockLoad ??= (async () => {
    try {
      const mod = (await import("os-lock")) as OsLock & { default?: OsLock };
      const api = typeof mod.lock === "function" ? mod : mod.default;
      return typeof api?.lock === "function" ? api : undefined;
    } catch {
      return undefined; // the optional addon did not build: fall back to an O_EXCL lock file
    }
  })();
  return osLockLoad;
}

/** Runs `fn` holding the exclusive lock `lockPath`; the lock file is removed when released. */
export async function withFileLock<T>(lockPath: string, opts: FileLockOptions, fn: () => Promise<T>): Promise<T> {
  const previous = mutexes.get(lockPath) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((res) => (done = res));
  const tail = previous.then(() => mine);
  mutexes.set(lockPath, tail);
  try {
    await previous;
    const release = await acquire(lockPath, opts);
    try {
      return await fn();
    } finally {
      await release();
    }
  } finally {
    done();
    if (mutexes.get(lockPath) === tail) mutexes.delete(lockPath);
  }
}

async function acquire(lockPath: string, opts: FileLockOptions): Promise<Release> {
  const osLock = await loadOsLock();
  if (!osLock && !warnedFallback) {
    warnedFallback = true;
    opts.warn?.(`the os-lock addon is not available; locking with lock files instead of fcntl`);
  }
  const deadline = Date.now() + opts.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const release = osLock ? await tryFcntlLock(osLock, lockPath, opts.what) : await tryLockFile(lockPath, opts.what);
    if (release) return release;
    if (Date.now() >= deadline) {
      throw new StoreBusyError(`${opts.what}: ${lockPath} is held by another writer; gave up after ${Math.round(opts.timeoutMs / 1000)}s`);
    }
    await sleep(Math.min(5 * 2 ** Math.min(attempt, 5), 200));
  }
}

/** One fcntl attempt; undefined when another process holds the lock. */
async function tryFcntlLock(osLock: OsLock, lockPath: string, what: string): Promise<Release | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(lockPath, "a", 0o644);
  } catch (err) {
    throw describeFsError(err, `${what}: ${lockPath}`);
  }
  try {
    await osLock.lock(fh.fd, { exclusive: true, immediate: true });
  } catch (err) {
    await fh.close();
    if (/^(EACCES|EAGAIN|EBUSY)$/.test(String((err as NodeJS.ErrnoException).code))) return undefined;
    throw describeFsError(err, `${what}: locking ${lockPath}`);
  }
  // The previous holder unlinks the file before unlocking: a lock on an unlinked file locks nothing.
  const [mine, current] = await Promise.all([fh.stat(), stat(lockPath).catch(() => undefined)]);
  if (!current || current.ino !== mine.ino || current.dev !== mine.dev) {
    await fh.close();
    return undefined;
  }
  return async () => {
    await unlink(lockPath).catch(() => undefined);
    await fh.close();
  };
}

/** One O_EXCL attempt; a lock file left by a dead process on this host is removed. */
async function tryLockFile(lockPath: string, what: string): Promise<Release | undefined> {
  try {
    const fh = await open(lockPath, "wx", 0o644);
    try {
      await fh.writeFile(`${process.pid} ${hostname()}\n`);
    } finally {
      await fh.close();
    }
    return () => unlink(lockPath).catch(() => undefined);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw describeFsError(err, `${what}: ${lockPath}`);
  }
  const [pid, host] = (await readFile(lockPath, "utf8").catch(() => "")).trim().split(" ");
  if (host === hostname() && pid && !isAlive(Number(pid))) await unlink(lockPath).catch(() => undefined);
  return undefined;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true; // unreadable: assume a live holder
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
