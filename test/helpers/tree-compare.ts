// Compares two directory trees entry by entry (what an exported image must preserve), and unpacks an
// OCI layout with umoci to get such a tree from an image.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { getAttribute, listAttributes } from "fs-xattr";
import { run } from "./tools.js";

export type EntryType = "file" | "dir" | "symlink" | "fifo" | "char" | "block" | "socket";

export interface TreeEntry {
  /** Relative to the tree's root; "." for the root itself. */
  path: string;
  type: EntryType;
  /** Permission bits with setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Regular files: sha256 hex of the content. */
  sha256?: string;
  linkTarget?: string;
  /** Devices: "major:minor" */
  device?: string;
  /** user.* and security.capability, values as hex. */
  xattrs: Record<string, string>;
  mtimeSeconds: bigint;
  /** "dev:ino", to find hard links. */
  inode: string;
}

export interface CompareOptions {
  /** Skip mtime checks everywhere. */
  ignoreMtime?: boolean;
  /** Skip mtime checks on directories (unpackers touch them while filling them). */
  ignoreDirMtime?: boolean;
  /** Skip the root directory entry itself (its mode, owner, mtime). */
  ignoreRoot?: boolean;
  /** Skip the mtime of symlinks. */
  ignoreSymlinkMtime?: boolean;
  /** Paths (relative, no leading "/") to leave out, with everything below them. */
  ignorePaths?: string[];
  /** Compare which paths are hard links of each other (default true). */
  hardLinks?: boolean;
}

export interface TreeDifference {
  path: string;
  what: "only-in-a" | "only-in-b" | "type" | "content" | "mode" | "owner" | "link-target" | "device" | "xattrs" | "mtime" | "hard-links";
  a: string;
  b: string;
}

const XATTR_KEPT = (name: string) => name.startsWith("user.") || name === "security.capability";

function typeOf(st: import("node:fs").BigIntStats): EntryType {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "fifo";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  return "socket";
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash("sha256");
  await pipeline(createReadStream(path), h);
  return h.digest("hex");
}

async function readXattrs(path: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await listAttributes(path)).filter(XATTR_KEPT).sort()) {
    out[name] = (await getAttribute(path, name)).toString("hex");
  }
  return out;
}

/** Every entry under `root` (the root itself as "."), sorted by path. */
export async function snapshotTree(root: string): Promise<Map<string, TreeEntry>> {
  const entries = new Map<string, TreeEntry>();
  async function visit(rel: string): Promise<void> {
    const abs = rel === "." ? root : join(root, rel);
    const st = await lstat(abs, { bigint: true });
    const type = typeOf(st);
    const e: TreeEntry = {
      path: rel,
      type,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: Number(st.size),
      xattrs: type === "symlink" ? {} : await readXattrs(abs),
      mtimeSeconds: st.mtimeNs / 1_000_000_000n,
      inode: `${st.dev}:${st.ino}`,
    };
    if (type === "file") e.sha256 = await fileSha256(abs);
    if (type === "symlink") e.linkTarget = await readlink(abs);
    if (type === "char" || type === "block") e.device = `${st.rdev >> 8n}:${st.rdev & 0xffn}`;
    entries.set(rel, e);
    if (type === "dir") {
      for (const name of (await readdir(abs)).sort()) await visit(rel === "." ? name : `${rel}/${name}`);
    }
  }
  await visit(".");
  return entries;
}

/** path -> sorted list of every path in the tree sharing its inode (files with more than one name). */
function hardLinkGroups(tree: Map<string, TreeEntry>): Map<string, string> {
  const byInode = new Map<string, string[]>();
  for (const e of tree.values()) {
    if (e.type === "dir") continue;
    byInode.set(e.inode, [...(byInode.get(e.inode) ?? []), e.path]);
  }
  const groups = new Map<string, string>();
  for (const paths of byInode.values()) {
    if (paths.length > 1) for (const p of paths) groups.set(p, paths.sort().join(", "));
  }
  return groups;
}

const oct = (m: number) => m.toString(8).padStart(4, "0");

/** The differences between trees `a` and `b`; [] when they hold the same entries with the same metadata. */
export async function compareTrees(a: string, b: string, opts: CompareOptions = {}): Promise<TreeDifference[]> {
  const [ta, tb] = await Promise.all([snapshotTree(a), snapshotTree(b)]);
  const ignored = (p: string) =>
    (opts.ignoreRoot === true && p === ".") || (opts.ignorePaths ?? []).some((i) => p === i || p.startsWith(`${i}/`));
  const la = opts.hardLinks === false ? new Map<string, string>() : hardLinkGroups(ta);
  const lb = opts.hardLinks === false ? new Map<string, string>() : hardLinkGroups(tb);
  const diffs: TreeDifference[] = [];
  const add = (path: string, what: TreeDifference["what"], x: unknown, y: unknown) => diffs.push({ path, what, a: String(x), b: String(y) });
  for (const path of [...new Set([...ta.keys(), ...tb.keys()])].sort()) {
    if (ignored(path)) continue;
    const ea = ta.get(path);
    const eb = tb.get(path);
    if (!ea || !eb) {
      add(path, ea ? "only-in-a" : "only-in-b", ea?.type ?? "-", eb?.type ?? "-");
      continue;
    }
    if (ea.type !== eb.type) {
      add(path, "type", ea.type, eb.type);
      continue;
    }
    if (ea.sha256 !== eb.sha256) add(path, "content", `${ea.size} bytes sha256:${ea.sha256}`, `${eb.size} bytes sha256:${eb.sha256}`);
    if (ea.type !== "symlink" && ea.mode !== eb.mode) add(path, "mode", oct(ea.mode), oct(eb.mode));
    if (ea.uid !== eb.uid || ea.gid !== eb.gid) add(path, "owner", `${ea.uid}:${ea.gid}`, `${eb.uid}:${eb.gid}`);
    if (ea.linkTarget !== eb.linkTarget) add(path, "link-target", ea.linkTarget, eb.linkTarget);
    if (ea.device !== eb.device) add(path, "device", ea.device, eb.device);
    const xa = JSON.stringify(ea.xattrs);
    const xb = JSON.stringify(eb.xattrs);
    if (xa !== xb) add(path, "xattrs", xa, xb);
    const skipMtime =
      opts.ignoreMtime === true ||
      (opts.ignoreDirMtime === true && ea.type === "dir") ||
      (opts.ignoreSymlinkMtime === true && ea.type === "symlink");
    if (!skipMtime && ea.mtimeSeconds !== eb.mtimeSeconds) {
      add(path, "mtime", new Date(Number(ea.mtimeSeconds) * 1000).toISOString(), new Date(Number(eb.mtimeSeconds) * 1000).toISOString());
    }
    if ((la.get(path) ?? "") !== (lb.get(path) ?? "")) add(path, "hard-links", la.get(path) ?? "none", lb.get(path) ?? "none");
  }
  return diffs;
}

/** One line per difference, for assertion messages. */
export function formatDifferences(diffs: TreeDifference[], max = 40): string {
  const lines = diffs.slice(0, max).map((d) => `${d.path}: ${d.what}: ${d.a} != ${d.b}`);
  if (diffs.length > max) lines.push(`... and ${diffs.length - max} more`);
  return lines.join("\n");
}

/**
 * Copies a tree keeping every timestamp to the nanosecond (`cp -a`), as a saved "before" to compare
 * with. Node's `fs.cp` with `preserveTimestamps` goes through a Date rounded to the millisecond, so
 * a file written at x.9996 s comes out at x+1 s and compareTrees sees a changed mtime.
 */
export async function copyTreeExactly(from: string, to: string): Promise<void> {
  await run("cp", ["-a", "--", from, to]);
}

/** `umoci unpack --image OCIDIR:REF DEST` (DEST must not exist); resolves with DEST/rootfs. */
export async function unpackWithUmoci(ociDir: string, ref: string, dest: string): Promise<string> {
  await run("umoci", ["unpack", "--image", `${ociDir}:${ref}`, dest]);
  return join(dest, "rootfs");
}
