// Paths that name one of this process's own file descriptors (/dev/stdout, /dev/fd/3, ...).
import { resolve } from "node:path";

/** The fd that `path` names, when it names one of ours; undefined otherwise. */
export function ownFdOf(path: string): number | undefined {
  const p = resolve(path);
  const named: Record<string, number> = { "/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2 };
  if (p in named) return named[p];
  const m = /^(?:\/dev\/fd|\/proc\/(?:self|thread-self|(\d+))\/fd)\/(\d+)$/.exec(p);
  if (!m || (m[1] !== undefined && Number(m[1]) !== process.pid)) return undefined;
  return Number(m[2]);
}

/** True for paths under /dev or /proc, which must never be replaced by a rename. */
export function isSpecialPath(path: string): boolean {
  const p = resolve(path);
  return p.startsWith("/dev/") || p.startsWith("/proc/");
}
