// An overlay layer without tar-split (a container's read-write layer): its diff/ directory as a
// tar, walked depth-first in byte order like containers/storage's native overlay diff, with the
// kernel's whiteouts (0:0 character devices) turned into ".wh.<name>" files and opaque
// directories followed by "<dir>/.wh..wh..opq" when the directory exists in a lower layer.
import { lstatSync, type BigIntStats } from "node:fs";
import { AbortedError, UnsupportedError } from "../../../src/errors.js";
import { childPath, ROOT_PATH, sortedNamesSync } from "./byte-paths.js";
import type { FsEntryArchiver } from "./fs-entry-archiver.js";
import { deviceNumbers, mtimeSeconds, readsAhead } from "./fs-entry-archiver.js";
import { ENTRIES_PER_TURN, yieldToEventLoop } from "./file-content.js";
import { encodeTarHeader, TYPE_FILE } from "./tar-header.js";

const WHITEOUT_PREFIX = Buffer.from(".wh.");
const OPAQUE_MARKER = Buffer.from(".wh..wh..opq");
const OPAQUE_XATTRS = ["trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"];
/** Content that lives elsewhere than diff/: native diffing cannot see it. */
const UNSUPPORTED_XATTRS = ["trusted.overlay.redirect", "user.overlay.redirect", "trusted.overlay.metacopy", "user.overlay.metacopy"];

export interface OverlayDiffOptions {
  archiver: FsEntryArchiver;
  diffDir: string;
  /** The lower layers' diff directories, nearest first. */
  lowerDiffs: readonly string[];
}

function isWhiteoutDevice(st: BigIntStats): boolean {
  if (!st.isCharacterDevice()) return false;
  const { major, minor } = deviceNumbers(st.rdev);
  return major === 0 && minor === 0;
}

function lstatOrUndefined(path: Buffer): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}

/** Whether `rel` is visible in some lower layer: found before a whiteout or a non-directory hides it. */
function existsInLowers(lowerDiffs: readonly string[], rel: Buffer): boolean {
  const parts = rel.toString("latin1").split("/").map((p) => Buffer.from(p, "latin1"));
  for (const lower of lowerDiffs) {
    let path = Buffer.from(lower);
    for (let i = 0; i < parts.length; i++) {
      path = Buffer.concat([path, Buffer.from("/"), parts[i] as Buffer]);
      const st = lstatOrUndefined(path);
      if (!st) break; // not in this lower: look further down
      if (isWhiteoutDevice(st)) return false;
      if (i === parts.length - 1) return true;
      if (!st.isDirectory()) return false;
    }
  }
  return false;
}

/** The diff directory as tar entries, in batches (see TarBatches); the end of archive is the caller's. */
export async function* overlayLayerTar(opts: OverlayDiffOptions): AsyncGenerator<Buffer> {
  yield* walkDirectory(opts, { visited: 0 }, Buffer.from(opts.diffDir), ROOT_PATH, sortedNamesSync(Buffer.from(opts.diffDir)));
  const last = opts.archiver.out.flush();
  if (last) yield last;
}

async function* walkDirectory(
  opts: OverlayDiffOptions, walk: { visited: number }, absDir: Buffer, relDir: Buffer, names: readonly Buffer[],
): AsyncGenerator<Buffer> {
  const { archiver } = opts;
  const { ctx } = archiver;
  for (const name of names) {
    if (ctx.signal?.aborted) throw new AbortedError(`layer ${ctx.layerId}: aborted`);
    if (++walk.visited % ENTRIES_PER_TURN === 0) await yieldToEventLoop();
    const abs = childPath(absDir, name);
    const rel = childPath(relDir, name);
    const st = lstatOrUndefined(abs);
    if (!st) continue; // removed while we walked: like containers/storage, leave it out
    if (isWhiteoutDevice(st)) {
      const whiteout = encodeTarHeader({
        name: childPath(relDir, Buffer.concat([WHITEOUT_PREFIX, name])),
        typeflag: TYPE_FILE,
        mode: 0, // what buildah 1.28 (containers/storage 1.43) writes
        uid: ctx.mapper.tryUid(Number(st.uid)) ?? 0,
        gid: ctx.mapper.tryGid(Number(st.gid)) ?? 0,
        size: 0,
        mtime: ctx.mtime ?? mtimeSeconds(st),
      });
      for (const batch of archiver.raw(whiteout)) yield batch;
      continue;
    }
    const xattrNames = st.isSymbolicLink() ? [] : ctx.xattrs.names(abs);
    const unsupported = UNSUPPORTED_XATTRS.find((x) => xattrNames.includes(x));
    if (unsupported) {
      throw new UnsupportedError(`layer ${ctx.layerId}: ${rel.toString("utf8")} has ${unsupported}: overlay redirect_dir/metacopy layers cannot be exported from their diff directory`);
    }
    const header = archiver.header(abs, rel, st, xattrNames);
    if (!header) continue;
    if (!st.isDirectory()) {
      if (readsAhead(header)) yield* archiver.entryReadAhead(abs, header);
      else for (const batch of archiver.entry(abs, header)) yield batch;
      continue;
    }
    const children = sortedNamesSync(abs);
    for (const batch of archiver.entry(abs, header)) yield batch;
    const markerFile = children.some((c) => c.equals(OPAQUE_MARKER));
    if (markerFile || isOpaqueByXattr(opts, abs, xattrNames)) {
      if (opts.lowerDiffs.length > 0 && existsInLowers(opts.lowerDiffs, rel)) {
        const marker = encodeTarHeader({
          name: childPath(rel, OPAQUE_MARKER),
          typeflag: TYPE_FILE,
          mode: header.mode & 0o777,
          uid: header.uid,
          gid: header.gid,
          size: 0,
          mtime: ctx.mtime ?? 0,
        });
        for (const batch of archiver.raw(marker)) yield batch;
      }
    }
    yield* walkDirectory(opts, walk, abs, rel, markerFile ? children.filter((c) => !c.equals(OPAQUE_MARKER)) : children);
  }
}

function isOpaqueByXattr(opts: OverlayDiffOptions, abs: Buffer, xattrNames: readonly string[]): boolean {
  for (const name of OPAQUE_XATTRS) {
    if (!xattrNames.includes(name)) continue;
    const v = opts.archiver.ctx.xattrs.value(abs, name);
    if (v && v.length === 1 && v[0] === 0x79) return true; // "y"
  }
  return false;
}
