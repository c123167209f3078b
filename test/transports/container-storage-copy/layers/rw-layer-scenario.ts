// A base image and a container on top of it whose read-write layer has every kind of change a
// layer tar must carry: added, modified and deleted files, a deleted directory, a directory
// deleted and re-created, chmod/chown, symlinks, hard links, a FIFO, a device, setuid, user
// xattrs, long and non-ASCII names, a large sparse file, a file replaced by a directory.
import { randomBytes } from "node:crypto";
import { chmod, chown, link, mkdir, open, rm, symlink, truncate, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setAttribute } from "fs-xattr";
import { run } from "../../../helpers/tools.js";
import type { BuildahStore } from "./buildah-store.js";

export const BASE_IMAGE = "localhost/layers-base:1";
export const LONG_DIR = `long/${"d".repeat(60)}/${"e".repeat(60)}`;
export const LONG_BASENAME = "f".repeat(120);
export const UNICODE_DIR = "ünïcødé";
export const BIG_SIZE = 50 * 1024 * 1024;
/** vfs_cap_data revision 2, effective, permitted = CAP_NET_BIND_SERVICE (bit 10). */
export const NET_BIND_SERVICE_CAPABILITY = Buffer.from([1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

export interface RwScenario {
  containerId: string;
  /** The container's merged view (buildah mount). */
  mount: string;
  rwLayerId: string;
}

async function put(root: string, rel: string, content: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(join(root, rel, ".."), { recursive: true });
  await writeFile(join(root, rel), content);
  await chmod(join(root, rel), mode);
}

async function buildBase(root: string): Promise<void> {
  await put(root, "etc/keep.txt", "keep\n");
  await put(root, "etc/mod.txt", "old content\n");
  await put(root, "etc/gone.txt", "bye\n");
  await put(root, "deldir/a", "a\n");
  await put(root, "deldir/sub/b", "b\n");
  await put(root, "redo/old1", "1\n");
  await put(root, "redo/old2", "2\n");
  await put(root, "perm.txt", "perm\n", 0o644);
  await put(root, "own.txt", "own\n");
  await put(root, "swap", "a file that becomes a directory\n");
  await put(root, "usr/bin/tool", "#!/bin/sh\n", 0o755);
  await put(root, "hl-base/one", "linked in the base\n");
  await link(join(root, "hl-base/one"), join(root, "hl-base/two"));
  // An old, whole-second mtime: the vfs comparison's nanosecond rule must not see it as changed.
  await utimes(join(root, "etc/keep.txt"), 1_000_000_000, 1_000_000_000);
}

async function modify(root: string): Promise<void> {
  await writeFile(join(root, "etc/mod.txt"), "new, longer content\n");
  await chmod(join(root, "perm.txt"), 0o600);
  await chown(join(root, "own.txt"), 1000, 1000);
}

async function add(root: string): Promise<void> {
  await put(root, "new.txt", "new file\n");
  await mkdir(join(root, "links"));
  await symlink("/etc/keep.txt", join(root, "links/abs"));
  await symlink("../etc/keep.txt", join(root, "links/rel"));
  await symlink("/nonexistent/target", join(root, "links/dangling"));
  await put(root, "hl/one", "hard linked\n");
  await link(join(root, "hl/one"), join(root, "hl/two"));
  await run("mkfifo", ["-m", "0640", join(root, "fifo")]);
  await mkdir(join(root, "dev"));
  await run("mknod", ["-m", "0666", join(root, "dev/null-copy"), "c", "1", "3"]);
  await put(root, "usr/bin/suid", "#!/bin/sh\n", 0o755);
  await chmod(join(root, "usr/bin/suid"), 0o4755);
  await put(root, "usr/bin/capped", "#!/bin/sh\n", 0o755);
  await setAttribute(join(root, "usr/bin/capped"), "security.capability", NET_BIND_SERVICE_CAPABILITY);
  await put(root, "xattr/file", "has xattrs\n");
  await setAttribute(join(root, "xattr/file"), "user.test", "hello");
  await setAttribute(join(root, "xattr/file"), "user.binary", Buffer.from([0, 1, 2, 255]));
  await setAttribute(join(root, "xattr"), "user.dirattr", "on a directory");
  await put(root, `${LONG_DIR}/file`, "long path\n");
  await put(root, `${LONG_DIR}/${LONG_BASENAME}`, "long name\n");
  await put(root, `${UNICODE_DIR}/名前.txt`, "non-ASCII name\n");
}

async function deleteAndReplace(root: string): Promise<void> {
  await unlink(join(root, "etc/gone.txt"));
  await rm(join(root, "deldir"), { recursive: true });
  await rm(join(root, "redo"), { recursive: true });
  await put(root, "redo/new", "recreated\n");
  await unlink(join(root, "swap"));
  await put(root, "swap/inside", "now a directory\n");
}

/** 50 MB, mostly holes: two 1 MiB runs of random data. */
async function addBigFile(root: string): Promise<void> {
  const big = join(root, "big.bin");
  await writeFile(big, randomBytes(1024 * 1024));
  const fh = await open(big, "r+");
  await fh.write(randomBytes(1024 * 1024), 0, 1024 * 1024, 30 * 1024 * 1024);
  await fh.close();
  await truncate(big, BIG_SIZE);
  // Big enough to be read ahead, and neither a whole number of read chunks nor of tar blocks.
  await writeFile(join(root, "odd-big.bin"), randomBytes(1024 * 1024 + 300 * 1024 + 77));
}

/** Builds the base image in `store` (once). */
export async function buildBaseImage(store: BuildahStore): Promise<string> {
  const scratch = await store.from("scratch");
  await buildBase(scratch.mount);
  const id = await store.commit(scratch.id, BASE_IMAGE);
  await store.buildah("rm", scratch.id);
  return id;
}

/**
 * A container from the base image with additions and modifications of every kind; with
 * `deletions`, also deleted files and directories, a re-created directory and a file replaced
 * by a directory, plus a 50 MB sparse file.
 */
export async function buildRwContainer(store: BuildahStore, deletions: boolean): Promise<RwScenario> {
  const c = await store.from(BASE_IMAGE);
  await add(c.mount);
  await modify(c.mount);
  if (deletions) {
    await deleteAndReplace(c.mount);
    await addBigFile(c.mount);
  }
  return { containerId: c.id, mount: c.mount, rwLayerId: await store.containerLayer(c.id) };
}
