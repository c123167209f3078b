// Removing what a killed imgcopy left behind (SIGKILL, power loss): temp files and folders whose
// names carry the writer's pid. An entry is removed only when both (a) no process has that pid
// (kill(pid, 0) fails with ESRCH) and (b) nothing in it changed for STALE_AFTER_MS. (b) protects a
// live writer whose pid we cannot see (another pid namespace sharing the folder); a pid reused by
// another process keeps the entry until a later write (conservative, never destructive).
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

export const STALE_AFTER_MS = 5 * 60_000;

/** True when no process has `pid` (as far as this pid namespace knows). */
export function isProcessGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** The newest mtime of an entry and, for a folder, of its direct children. */
async function lastChange(path: string): Promise<number> {
  const st = await lstat(path);
  let newest = st.mtimeMs;
  if (st.isDirectory()) {
    for (const name of await readdir(path)) {
      const child = await lstat(join(path, name)).catch(() => undefined);
      if (child && child.mtimeMs > newest) newest = child.mtimeMs;
    }
  }
  return newest;
}

/**
 * Removes the entries of `dir` whose name matches `pattern` (group 1: the writer's pid) and that
 * are stale as described above. Best effort: returns the names removed, never throws.
 */
export async function removeStaleTempEntries(dir: string, pattern: RegExp, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) continue;
    const path = join(dir, name);
    try {
      if (now - (await lastChange(path)) < STALE_AFTER_MS || !isProcessGone(pid)) continue;
      await rm(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Gone already (another writer swept it), or not ours to judge: leave it.
    }
  }
  return removed;
}
