// The user's subordinate id ranges (/etc/subuid, /etc/subgid) and the user-namespace map built from
// them the way podman and containers/storage build it: container 0 is the user, then every range of
// the user, sorted by start, packed from container id 1.
import { readFile } from "node:fs/promises";

/** One `NAME_OR_UID:START:COUNT` line of /etc/subuid or /etc/subgid that belongs to the user. */
export interface SubordinateRange {
  start: number;
  count: number;
}

/** One line of /proc/PID/uid_map: `count` ids from `outer` (host) appear as `inner` in the namespace. */
export interface NamespaceIdRange {
  inner: number;
  outer: number;
  count: number;
}

/** Who the ranges are looked up for: by name or by numeric id, as shadow's newuidmap accepts both. */
export interface SubordinateOwner {
  name: string | undefined;
  id: number;
}

/** The ranges of `owner` in the text of a subuid/subgid file; malformed lines and comments are ignored, as shadow ignores them. */
export function parseSubordinateRanges(text: string, owner: SubordinateOwner): SubordinateRange[] {
  const ranges: SubordinateRange[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [who, start, count, ...extra] = line.split(":");
    if (extra.length > 0 || !/^\d+$/.test(start ?? "") || !/^\d+$/.test(count ?? "")) continue;
    if (who !== owner.name && who !== String(owner.id)) continue;
    const range = { start: Number(start), count: Number(count) };
    if (range.count > 0) ranges.push(range);
  }
  return ranges;
}

/** The ranges of `owner` in `file`; [] when the file does not exist. */
export async function readSubordinateRanges(file: string, owner: SubordinateOwner): Promise<SubordinateRange[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return parseSubordinateRanges(text, owner);
}

/** Podman's map: 0 -> the user's own id, then the ranges sorted by start, packed from 1 (duplicates dropped). */
export function namespaceMap(hostId: number, ranges: readonly SubordinateRange[]): NamespaceIdRange[] {
  const map: NamespaceIdRange[] = [{ inner: 0, outer: hostId, count: 1 }];
  const seen = new Set<string>();
  let next = 1;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    const key = `${r.start}:${r.count}`;
    if (seen.has(key)) continue;
    seen.add(key);
    map.push({ inner: next, outer: r.start, count: r.count });
    next += r.count;
  }
  return map;
}
