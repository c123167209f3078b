// A destination path's parent directory must exist: imgcopy, like skopeo, creates the image
// directory, layout or archive, never the folders above it (a typo must not create a tree).
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { NotFoundError, UnsupportedError, describeFsError } from "./errors.js";

/** Throws one line naming `what` (the reference) when `path`'s parent is missing or not a directory. */
export async function requireParentDirectory(path: string, what: string): Promise<void> {
  const parent = dirname(resolve(path));
  let st;
  try {
    st = await stat(parent);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new NotFoundError(`${what}: directory ${parent} does not exist (create it first; imgcopy does not create missing parents)`);
    }
    if (code === "ENOTDIR") throw new UnsupportedError(`${what}: ${await firstNonDirectory(parent)} is not a directory`);
    throw describeFsError(err, `${what}: ${parent}`);
  }
  if (!st.isDirectory()) throw new UnsupportedError(`${what}: ${parent} is not a directory`);
}

/** The nearest ancestor of `path` that exists and is not a directory (ENOTDIR names none). */
async function firstNonDirectory(path: string): Promise<string> {
  let p = path;
  for (;;) {
    const st = await stat(p).catch(() => undefined);
    if (st && !st.isDirectory()) return p;
    const up = dirname(p);
    if (up === p) return path;
    p = up;
  }
}

/**
 * The error for a failed first write in `parent`, which exists (requireParentDirectory said so):
 * ENOENT there means the file system takes no new entries (/proc, /sys), not a missing folder.
 */
export function cannotCreateIn(err: unknown, parent: string, what: string): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return new UnsupportedError(`${what}: cannot create files in ${parent} (the file system there does not allow it)`, { cause: err });
  if (code === "EROFS") return new UnsupportedError(`${what}: ${parent} is on a read-only file system`, { cause: err });
  return describeFsError(err, `${what}: ${parent}`);
}
