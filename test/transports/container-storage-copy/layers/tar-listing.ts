// Lists a tar's entries with tar-stream (a reader independent of the code under test).
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { extract } from "tar-stream";

export interface ListedEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** PAX SCHILY.xattr.* records, name -> value as tar-stream decodes them. */
  xattrs: Record<string, string>;
  /** sha256 hex of the content (regular files). */
  sha256: string;
}

export async function listTar(tar: Readable): Promise<ListedEntry[]> {
  const out: ListedEntry[] = [];
  const ex = extract();
  tar.on("error", (err) => ex.destroy(err));
  tar.pipe(ex);
  for await (const entry of ex) {
    const h = entry.header;
    const pax = ((h as { pax?: Record<string, string> }).pax ?? {}) as Record<string, string>;
    const xattrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(pax)) if (k.startsWith("SCHILY.xattr.")) xattrs[k.slice("SCHILY.xattr.".length)] = v;
    const hash = createHash("sha256");
    for await (const chunk of entry) hash.update(chunk as Buffer);
    out.push({
      name: h.name,
      type: h.type ?? "",
      mode: h.mode ?? 0,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      size: h.size ?? 0,
      mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
      linkname: h.linkname ?? "",
      devmajor: h.devmajor ?? 0,
      devminor: h.devminor ?? 0,
      xattrs,
      sha256: hash.digest("hex"),
    });
  }
  return out;
}
