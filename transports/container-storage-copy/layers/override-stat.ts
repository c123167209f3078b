// containers/storage's `user.containers.override_stat` xattr: with overlay's force_mask (rootless
// fuse-overlayfs stores) the file on disk has the mask's mode and the user's owner, and the real
// `uid:gid:mode[:type]` lives in this xattr (pkg/idtools). A layer tar carries the real values.
import { CorruptInputError, UnsupportedError } from "../../../src/errors.js";
import { TYPE_BLOCK, TYPE_CHAR, TYPE_DIR, TYPE_FIFO, TYPE_FILE, TYPE_SYMLINK, type TarHeader } from "./tar-header.js";

export const OVERRIDE_STAT_XATTR = "user.containers.override_stat";

export interface OverrideStat {
  uid: number;
  gid: number;
  /** Permission bits with setuid/setgid/sticky (07777). */
  permissions: number;
  /** The real file type when given: "file", "dir", "symlink", "pipe", "socket", "block-M-m", "char-M-m". */
  type?: { typeflag: number | "socket"; major?: number; minor?: number };
}

const SIMPLE_TYPES: Record<string, number | "socket"> = { file: TYPE_FILE, dir: TYPE_DIR, symlink: TYPE_SYMLINK, pipe: TYPE_FIFO, socket: "socket" };
const TYPE_BITS: Record<number, number> = { [TYPE_FILE]: 0o100000, [TYPE_DIR]: 0o040000, [TYPE_SYMLINK]: 0o120000, [TYPE_FIFO]: 0o010000, [TYPE_CHAR]: 0o020000, [TYPE_BLOCK]: 0o060000 };

/** Parses the xattr's value; `what` names the file in the error when it is malformed. */
export function parseOverrideStat(value: Buffer, what: string): OverrideStat {
  const text = value.toString("utf8");
  const bad = (): CorruptInputError => new CorruptInputError(`${what}: malformed ${OVERRIDE_STAT_XATTR} ${JSON.stringify(text)} (expected UID:GID:MODE[:TYPE])`);
  const [uid, gid, mode, type, ...extra] = text.split(":");
  if (extra.length > 0 || !/^\d+$/.test(uid ?? "") || !/^\d+$/.test(gid ?? "") || !/^[0-7]{1,6}$/.test(mode ?? "")) throw bad();
  const stat: OverrideStat = { uid: Number(uid), gid: Number(gid), permissions: parseInt(mode!, 8) & 0o7777 };
  if (type === undefined || type === "") return stat;
  const simple = SIMPLE_TYPES[type];
  if (simple !== undefined) return { ...stat, type: { typeflag: simple } };
  const dev = /^(block|char)-(\d+)-(\d+)$/.exec(type);
  if (!dev) throw bad();
  return { ...stat, type: { typeflag: dev[1] === "block" ? TYPE_BLOCK : TYPE_CHAR, major: Number(dev[2]), minor: Number(dev[3]) } };
}

/**
 * Applies an override to a header made from the file on disk (uid/gid still host ids: the caller maps
 * them). Returns undefined for a socket, which does not go into a layer. A type change is possible
 * only where the disk cannot hold the real type (a device or FIFO kept as a regular file).
 */
export function applyOverrideStat(h: TarHeader, o: OverrideStat, what: string): TarHeader | undefined {
  let typeflag = h.typeflag;
  if (o.type) {
    if (o.type.typeflag === "socket") return undefined;
    if (o.type.typeflag !== h.typeflag) {
      const toSpecial = o.type.typeflag === TYPE_CHAR || o.type.typeflag === TYPE_BLOCK || o.type.typeflag === TYPE_FIFO;
      if (!toSpecial || h.typeflag !== TYPE_FILE) {
        throw new UnsupportedError(`${what}: ${OVERRIDE_STAT_XATTR} gives a file type this reader cannot rebuild from what is on disk`);
      }
      typeflag = o.type.typeflag;
    }
  }
  const out: TarHeader = { ...h, typeflag, uid: o.uid, gid: o.gid, mode: (TYPE_BITS[typeflag] ?? 0) | o.permissions };
  if (typeflag !== h.typeflag) {
    out.size = 0;
    if (typeflag === TYPE_CHAR || typeflag === TYPE_BLOCK) {
      out.devmajor = o.type?.major ?? 0;
      out.devminor = o.type?.minor ?? 0;
    }
  }
  return out;
}
