// What the fixture images and containers hold: plain file-system operations on a root directory
// (a `buildah mount` point), so every driver gets the same content. Paths are relative to the root.
import { createCipheriv } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, chown, link, lutimes, mkdir, rm, symlink, utimes, writeFile, appendFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setAttribute } from "fs-xattr";
import { run } from "./tools.js";

/** A fixed time (2001-02-03T04:05:06Z) given to some entries, to check that mtimes travel. */
export const OLD_MTIME = new Date("2001-02-03T04:05:06Z");

/** security.capability v2 value granting cap_net_bind_service (bit 10), effective. */
export const NET_BIND_CAPABILITY = (() => {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(0x02000001, 0); // VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE
  b.writeUInt32LE(1 << 10, 4); // permitted, low word
  return b;
})();

const LONG_A = "a".repeat(60);
const LONG_B = "b".repeat(60);
const LONG_NAME = `${"n".repeat(120)}.txt`;

/** Paths the base image and changed container tests look for (see buildah-store.test.ts). */
export const BASE = {
  passwd: "etc/passwd",
  tool: "usr/bin/tool",
  toolHardLink: "usr/bin/tool-hardlink",
  suidTool: "usr/bin/suid-tool",
  binSymlink: "bin",
  userHome: "home/user",
  withXattr: "etc/with-xattr.conf",
  oldMtime: "etc/old-mtime.conf",
  /** Added in layer 1 and deleted in layer 2: a whiteout in an image layer. */
  deletedInLayer2: "etc/layer1-only.txt",
  deletedDirInLayer2: "var/lib/gone",
  layer2File: "opt/app/README",
  layer2Symlink: "etc/layer2-link",
} as const;

export const CHANGES = {
  added: ["added/new.txt", "added/empty", "added/dir/nested.txt"],
  modified: ["etc/to-modify.conf", "opt/app/README"],
  deleted: ["etc/to-delete.conf", "usr/bin/tool-hardlink"],
  deletedDir: "etc/olddir",
  recreatedDir: "var/cache/app",
  recreatedDirNewFile: "var/cache/app/c",
  recreatedDirGoneFiles: ["var/cache/app/a", "var/cache/app/b"],
  chmodFile: { path: "etc/to-chmod.conf", mode: 0o600 },
  chmodDir: { path: "opt/app", mode: 0o700 },
  chownFile: { path: "etc/to-chown.conf", uid: 1000, gid: 1000 },
  nobodyFile: { path: "added/nobody.txt", uid: 65534, gid: 65534 },
  absSymlink: { path: "added/abs-link", target: "/etc/passwd" },
  relSymlink: { path: "added/rel-link", target: "../usr/bin/tool" },
  danglingSymlink: { path: "added/dangling", target: "/nonexistent/target" },
  fileBecameSymlink: { path: "etc/file-to-link", target: "passwd" },
  hardLinks: ["added/hl-a", "added/hl-b", "added/dir/hl-c"],
  fifo: "added/fifo",
  setuid: { path: "added/suid-new", mode: 0o4750, uid: 0, gid: 1000 },
  setgidDir: { path: "added/sgid-dir", mode: 0o2775 },
  xattrs: [
    { path: "added/new.txt", name: "user.comment", value: "hello" },
    { path: "added/dir", name: "user.dirattr", value: "on a directory" },
    { path: "etc/xattr-later.conf", name: "user.added", value: "1" },
  ],
  capabilityFile: "added/cap-file",
  longPath: `added/long/${LONG_A}/${LONG_B}/file-with-a-long-path.txt`,
  longName: `added/${LONG_NAME}`,
  nonAscii: "added/données/café-ß-日本語.txt",
  large: { path: "added/large.bin", size: 24 * 1024 * 1024 },
  oldMtime: "added/old-mtime.txt",
} as const;

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n";
const GROUP = "root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n";

async function put(root: string, rel: string, content: string | Buffer, mode = 0o644, uid = 0, gid = 0): Promise<void> {
  const p = join(root, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, content);
  await chown(p, uid, gid);
  await chmod(p, mode); // after chown: chown clears setuid bits
}

async function dir(root: string, rel: string, mode = 0o755, uid = 0, gid = 0): Promise<void> {
  const p = join(root, rel);
  await mkdir(p, { recursive: true });
  await chown(p, uid, gid);
  await chmod(p, mode);
}

/** Deterministic pseudo-random bytes (AES-CTR of zeros): incompressible, same on every run. */
export function pseudoRandom(size: number, seed: string): Readable {
  const key = Buffer.alloc(32, seed);
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const chunk = Buffer.alloc(1 << 20);
  let left = size;
  return Readable.from(
    (function* () {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        yield cipher.update(chunk.subarray(0, n));
      }
    })(),
  );
}

async function putRandom(root: string, rel: string, size: number, seed: string): Promise<void> {
  const p = join(root, rel);
  await mkdir(dirname(p), { recursive: true });
  await pipeline(pseudoRandom(size, seed), createWriteStream(p));
}

/** Layer 1 of the base image. */
export async function writeBaseLayer1(root: string): Promise<void> {
  for (const d of ["etc", "usr/bin", "usr/lib", "opt", "var/lib"]) await dir(root, d);
  await dir(root, "tmp", 0o1777);
  await dir(root, "root", 0o700);
  await dir(root, BASE.userHome, 0o750, 1000, 1000);
  await put(root, BASE.passwd, PASSWD);
  await put(root, "etc/group", GROUP);
  await put(root, BASE.tool, "#!/bin/sh\necho tool \"$@\"\n", 0o755);
  await link(join(root, BASE.tool), join(root, BASE.toolHardLink));
  await put(root, BASE.suidTool, "#!/bin/sh\nid\n", 0o4755);
  await symlink("usr/bin", join(root, BASE.binSymlink));
  await put(root, "home/user/.profile", "export PS1='$ '\n", 0o600, 1000, 1000);
  await put(root, "etc/olddir/x", "x\n");
  await put(root, "etc/olddir/sub/y", "y\n");
  await put(root, "var/cache/app/a", "a\n");
  await put(root, "var/cache/app/b", "b\n");
  for (const f of ["to-delete.conf", "to-chmod.conf", "to-chown.conf", "to-modify.conf", "xattr-later.conf", "file-to-link"]) {
    await put(root, `etc/${f}`, `${f}=1\n`);
  }
  await put(root, BASE.withXattr, "with xattr\n");
  await setAttribute(join(root, BASE.withXattr), "user.origin", "base");
  await put(root, BASE.oldMtime, "old\n");
  await utimes(join(root, BASE.oldMtime), OLD_MTIME, OLD_MTIME);
  await put(root, BASE.deletedInLayer2, "gone in layer 2\n");
  await put(root, `${BASE.deletedDirInLayer2}/f`, "gone with its directory\n");
}

/** Layer 2 of the base image: changes on top of layer 1, including deletions (whiteouts). */
export async function writeBaseLayer2(root: string): Promise<void> {
  await dir(root, "opt/app", 0o755, 0, 1000);
  await put(root, BASE.layer2File, "the app\n");
  await put(root, "opt/app/run.sh", "#!/bin/sh\nexec /usr/bin/tool\n", 0o750, 0, 1000);
  await putRandom(root, "opt/app/data.bin", 64 * 1024, "layer2");
  await appendFile(join(root, BASE.passwd), "app:x:1001:1001::/opt/app:/bin/false\n");
  await symlink("/etc/passwd", join(root, BASE.layer2Symlink));
  await rm(join(root, BASE.deletedInLayer2));
  await rm(join(root, BASE.deletedDirInLayer2), { recursive: true });
}

/** Every change the container-copy transport must carry into the container's layer. */
export async function applyContainerChanges(root: string): Promise<void> {
  const c = CHANGES;
  const at = (rel: string) => join(root, rel);
  await dir(root, "added");
  await put(root, c.added[0], "new file\n");
  await put(root, c.added[1], "");
  await put(root, c.added[2], "nested\n");
  await writeFile(at(c.modified[0]), "to-modify=2\nmore=yes\n");
  await appendFile(at(c.modified[1]), "changed in the container\n");
  for (const d of c.deleted) await rm(at(d));
  await rm(at(c.deletedDir), { recursive: true });
  await rm(at(c.recreatedDir), { recursive: true });
  await dir(root, c.recreatedDir);
  await put(root, c.recreatedDirNewFile, "c\n");
  await chmod(at(c.chmodFile.path), c.chmodFile.mode);
  await chmod(at(c.chmodDir.path), c.chmodDir.mode);
  await chown(at(c.chownFile.path), c.chownFile.uid, c.chownFile.gid);
  await put(root, c.nobodyFile.path, "nobody's\n", 0o640, c.nobodyFile.uid, c.nobodyFile.gid);
  for (const s of [c.absSymlink, c.relSymlink, c.danglingSymlink]) await symlink(s.target, at(s.path));
  await rm(at(c.fileBecameSymlink.path));
  await symlink(c.fileBecameSymlink.target, at(c.fileBecameSymlink.path));
  await put(root, c.hardLinks[0], "linked three times\n");
  for (const l of c.hardLinks.slice(1)) await link(at(c.hardLinks[0]), at(l));
  await run("mkfifo", ["-m", "0640", at(c.fifo)]);
  await put(root, c.setuid.path, "#!/bin/sh\nid\n", c.setuid.mode, c.setuid.uid, c.setuid.gid);
  await dir(root, c.setgidDir.path, c.setgidDir.mode);
  for (const x of c.xattrs) await setAttribute(at(x.path), x.name, x.value);
  await put(root, c.capabilityFile, "#!/bin/sh\n", 0o755);
  await setAttribute(at(c.capabilityFile), "security.capability", NET_BIND_CAPABILITY);
  await put(root, c.longPath, "deep\n");
  await put(root, c.longName, "long name\n");
  await put(root, c.nonAscii, "non-ASCII path\n");
  await putRandom(root, c.large.path, c.large.size, "large");
  await put(root, c.oldMtime, "old mtime\n");
  await utimes(at(c.oldMtime), OLD_MTIME, OLD_MTIME);
  await lutimes(at(c.absSymlink.path), OLD_MTIME, OLD_MTIME);
}

/** A few files for a container made from scratch. */
export async function writeScratchContent(root: string): Promise<void> {
  await dir(root, "etc");
  await put(root, "etc/hello.txt", "hello from scratch\n");
  await put(root, "bin/run", "#!/bin/sh\necho run\n", 0o755);
  await symlink("hello.txt", join(root, "etc/hello-link"));
  await put(root, "data/owned.txt", "owned\n", 0o600, 1000, 1000);
}
