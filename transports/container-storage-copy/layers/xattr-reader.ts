// Extended attributes through the optional fs-xattr addon. It follows symlinks, so callers never
// ask about a symlink; without the addon (or for a path it cannot name) there are no xattrs.
// The calls are synchronous: they are per file and cheaper than a thread-pool round trip.
import { isAscii } from "node:buffer";

export interface XattrAddon {
  listAttributesSync(path: string): string[];
  getAttributeSync(path: string, name: string): Buffer;
}

let addonPromise: Promise<XattrAddon | undefined> | undefined;

/** The addon, imported once per process; undefined when it is not installed or did not build. */
function loadAddonOnce(): Promise<XattrAddon | undefined> {
  addonPromise ??= import("fs-xattr").then(
    (m: XattrAddon) => m,
    () => undefined,
  );
  return addonPromise;
}

/** Xattrs that travel in a layer tar (what containers/storage's pkg/archive writes). */
export function isExportedXattr(name: string): boolean {
  if (name === "security.capability" || name === "security.ima") return true;
  // Internal to overlay, fuse-overlayfs and containers/storage: never part of an image.
  return name.startsWith("user.") && !name.startsWith("user.overlay.") && !name.startsWith("user.fuseoverlayfs.") && name !== "user.containers.override_stat";
}

const NOT_SUPPORTED = new Set(["ENOTSUP", "EOPNOTSUPP", "ENODATA"]);

export class XattrReader {
  private warnedPath = false;

  private constructor(
    private readonly addon: XattrAddon | undefined,
    private readonly warn: (msg: string) => void,
  ) {}

  /** Loads the addon (once per process); warns through `warn` when it is missing. */
  static async open(warn: (msg: string) => void, what: string, load: () => Promise<XattrAddon | undefined> = loadAddonOnce): Promise<XattrReader> {
    const addon = await load().catch(() => undefined);
    if (!addon) warn(`${what}: the fs-xattr addon is not available; exporting without extended attributes (file capabilities and user.* xattrs are lost)`);
    return new XattrReader(addon, warn);
  }

  get available(): boolean {
    return this.addon !== undefined;
  }

  /**
   * Every xattr name of a non-symlink at `path` ([] when none or unsupported). A string path is
   * taken as the path's own text (an ASCII one); a Buffer holds its bytes.
   */
  names(path: Buffer | string): string[] {
    const p = this.pathString(path);
    if (!this.addon || p === undefined) return [];
    try {
      return this.addon.listAttributesSync(p);
    } catch (err) {
      if (NOT_SUPPORTED.has((err as NodeJS.ErrnoException).code ?? "")) return [];
      throw err;
    }
  }

  /** One xattr's value; undefined when it vanished in the meantime. */
  value(path: Buffer | string, name: string): Buffer | undefined {
    const p = this.pathString(path);
    if (!this.addon || p === undefined) return undefined;
    try {
      return this.addon.getAttributeSync(p, name);
    } catch (err) {
      if (NOT_SUPPORTED.has((err as NodeJS.ErrnoException).code ?? "")) return undefined;
      throw err;
    }
  }

  /** The exported xattrs of a non-symlink, sorted by name, among `names` (from names()). */
  exported(path: Buffer | string, names: readonly string[]): Array<[string, Buffer]> {
    const out: Array<[string, Buffer]> = [];
    if (names.length === 0) return out; // nearly every file
    for (const name of names.filter(isExportedXattr).sort(compareNames)) {
      const v = this.value(path, name);
      if (v !== undefined) out.push([name, v]);
    }
    return out;
  }

  private pathString(path: Buffer | string): string | undefined {
    if (typeof path === "string") return path;
    if (isAscii(path)) return path.toString("latin1"); // nearly every path: no round trip to check
    const s = path.toString("utf8");
    if (Buffer.byteLength(s, "utf8") === path.length && Buffer.from(s, "utf8").equals(path)) return s;
    if (!this.warnedPath) {
      this.warnedPath = true;
      this.warn(`${path.toString("utf8")}: the path is not valid UTF-8; its extended attributes are not exported`);
    }
    return undefined;
  }
}

/** Byte order, as Go sorts PAX keys. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
