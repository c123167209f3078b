// A shared flock(2) on libpod's bolt_state.db while it is read: podman (bbolt) holds an exclusive
// flock on it during every operation. Node has no flock and a native addon is not worth it here,
// so util-linux's flock(1) holds the lock for us: it takes the lock, starts a shell that says
// "locked" and waits for its stdin to close; closing stdin (or this process dying) releases it.
import { spawn } from "node:child_process";
import { AbortedError, StoreBusyError } from "../../../src/errors.js";
import type { SystemContext } from "../../../src/types.js";

const DEFAULT_TIMEOUT_MS = 30_000;
/** flock(1)'s exit code when the wait timed out, set with --conflict-exit-code. */
const BUSY_EXIT = 75;

let warnedUnlocked = false;

/** Runs `read` while a shared flock on `path` is held. When flock(1) is missing or fails: warns once and reads anyway. */
export async function withSharedFlock<T>(path: string, ctx: SystemContext, read: () => Promise<T>): Promise<T> {
  if (ctx.signal?.aborted) throw new AbortedError(`stopped before taking the lock on ${path}`);
  const timeoutS = Math.max(1, Math.ceil((ctx.lockTimeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000));
  const child = spawn(
    "flock",
    ["--shared", "--wait", String(timeoutS), "--conflict-exit-code", String(BUSY_EXIT), path, "sh", "-c", "echo locked; exec cat >/dev/null"],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  let onAbort = (): void => {};
  // "locked", an error that stops the read (busy, aborted), or why the read goes on without the lock.
  const locked = await new Promise<"locked" | Error | { unlocked: string }>((resolve) => {
    let stderr = "";
    onAbort = (): void => {
      child.kill("SIGTERM");
      resolve(new AbortedError(`stopped while waiting for the lock on ${path}`));
    };
    ctx.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.once("data", () => resolve("locked"));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", (err: NodeJS.ErrnoException) =>
      resolve({ unlocked: err.code === "ENOENT" ? "flock (util-linux) is not installed" : `flock could not be started: ${err.message}` }),
    );
    child.once("close", (code) => {
      if (code === BUSY_EXIT) resolve(new StoreBusyError(`${path} is busy: podman holds its lock (waited ${timeoutS} s; see --lock-timeout)`));
      // A filesystem without flock, say: podman could not lock it either, so reading is no worse.
      else resolve({ unlocked: `flock failed: ${stderr.trim().split("\n")[0] || `exit ${code}`}` });
    });
  });
  ctx.signal?.removeEventListener("abort", onAbort);
  if (typeof locked === "object" && "unlocked" in locked) {
    if (!warnedUnlocked) {
      warnedUnlocked = true;
      ctx.warn?.(`${locked.unlocked}: reading ${path} without podman's lock (a concurrent podman command may change it meanwhile)`);
    }
    return read();
  }
  if (locked instanceof Error) {
    child.kill("SIGTERM");
    throw locked;
  }
  try {
    return await read();
  } finally {
    child.stdin.end();
    await exited;
  }
}
