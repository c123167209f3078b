// What a directory tree looks like, entry by entry, for comparing an unpacked image with a
// container's merged view: type, mode, owner, size, content hash, link target, device, user
// xattrs and mtime (whole seconds).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { getAttribute, listAttributes } from "fs-xattr";

export interface TreeEntry {
  type: string;
  mode: string;
  owner: string;
  size: number;
  sha256: string;
  target: string;
  rdev: number;
  xattrs: string;
  mtime: number;
}

function typeOf(st: Awaited<ReturnType<typeof lstat>>): string {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "fifo";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  return "other";
}

/** Every entry under `root` (not root itself), keyed by relative path. */
export async function snapshotTree(root: string): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(root, r);
      const st = await lstat(abs);
      const e: TreeEntry = {
        type: typeOf(st),
        mode: (st.mode & 0o7777).toString(8),
        owner: `${st.uid}:${st.gid}`,
        size: st.isFile() ? st.size : 0,
        sha256: "",
        target: st.isSymbolicLink() ? await readlink(abs) : "",
        rdev: st.isCharacterDevice() || st.isBlockDevice() ? st.rdev : 0,
        xattrs: "",
        mtime: Math.floor(st.mtimeMs / 1000),
      };
      if (st.isFile()) {
        const h = createHash("sha256");
        await pipeline(createReadStream(abs), h);
        e.sha256 = h.digest("hex");
      }
      if (!st.isSymbolicLink()) {
        const names = (await listAttributes(abs)).filter((n) => n === "security.capability" || (n.startsWith("user.") && !n.startsWith("user.overlay."))).sort();
        const parts: string[] = [];
        for (const n of names) parts.push(`${n}=${(await getAttribute(abs, n)).toString("base64")}`);
        e.xattrs = parts.join(",");
      }
      out.set(r, e);
      if (st.isDirectory()) await walk(r);
    }
  };
  await walk("");
  return out;
}
