// Makes the archive a seekable regular file: a pipe or device (/dev/stdin) is spooled to a temp file.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UnsupportedError, describeFsError } from "../../src/errors.js";
import { ownFdOf } from "./process-fd.js";

export interface ArchiveInput {
  /** A regular file holding the archive. */
  path: string;
  /** Removes the spool file, if one was made. */
  cleanup(): Promise<void>;
}

/** `label` ("docker-archive:PATH") names the archive in errors. */
export async function openArchiveInput(path: string, label: string, env: NodeJS.ProcessEnv | undefined): Promise<ArchiveInput> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw describeFsError(err, label);
  }
  if (st.isDirectory()) throw new UnsupportedError(`${label}: ${path} is a directory; docker-archive needs a tar file`);
  if (st.isFile()) return { path, cleanup: async () => {} };
  const dir = await mkdtemp(join(env?.TMPDIR || tmpdir(), "imgcopy-docker-archive-"));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const spool = join(dir, "archive.tar");
  try {
    await pipeline(await openReadable(path), createWriteStream(spool, { flags: "wx", mode: 0o600 }));
  } catch (err) {
    await cleanup();
    throw describeFsError(err, label);
  }
  return { path: spool, cleanup };
}

/** A stream of `path`; our own fd when it is a socket, which cannot be reopened by path. */
async function openReadable(path: string): Promise<Readable> {
  try {
    const fh = await open(path, "r");
    return fh.createReadStream();
  } catch (err) {
    const fd = ownFdOf(path);
    if ((err as NodeJS.ErrnoException).code === "ENXIO" && fd !== undefined) {
      return fd === 0 ? process.stdin : new Socket({ fd, readable: true, writable: false });
    }
    throw err;
  }
}

/** The bytes [offset, offset+size) of a file, as a stream. */
export function readRange(path: string, offset: number, size: number): Readable {
  return createReadStream(path, { start: offset, end: offset + size - 1, highWaterMark: 256 * 1024 });
}
