// How `imgcopy list` shows items: podman's columns, sizes and "2 hours ago", and TYPE (container or
// image: container-copy: resolves a name that is both to the container).
import type { ListedItem } from "../types.js";
import { formatTable } from "./text-table.js";

export function formatListing(items: readonly ListedItem[], now = Date.now()): string {
  // The MADE BY column only for locations that tell which tool made each container.
  const madeBy = items.some((item) => item.madeBy !== undefined);
  const rows = items.map((item) => [
    shortId(item.id),
    item.kind,
    item.names.length > 0 ? item.names.join(",") : "<none>",
    item.kind === "image" ? "-" : item.image ? shortId(item.image) : "scratch",
    ...(madeBy ? [item.madeBy ?? "-"] : []),
    item.size === undefined ? "-" : humanSize(item.size),
    item.created === undefined ? "-" : timeAgo(item.created, now),
  ]);
  return formatTable(["ID", "TYPE", "NAMES", "IMAGE", ...(madeBy ? ["MADE BY"] : []), "SIZE", "CREATED"], rows);
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** Decimal units with 4 significant digits, as podman prints sizes ("5.632 kB"). */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))} ${units[i]}`;
}

/** "2 hours ago", as podman prints created times; the text as given when it is not a date. */
export function timeAgo(created: string, now = Date.now()): string {
  const t = Date.parse(created);
  if (Number.isNaN(t)) return created;
  const s = Math.max(0, (now - t) / 1000);
  return `${humanDuration(s)} ago`;
}

function humanDuration(s: number): string {
  const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (s < 1) return "Less than a second";
  if (s < 60) return plural(Math.floor(s), "second");
  const m = s / 60;
  if (m < 2) return "About a minute";
  if (m < 60) return plural(Math.floor(m), "minute");
  const h = m / 60;
  if (h < 2) return "About an hour";
  if (h < 48) return plural(Math.floor(h), "hour");
  const d = h / 24;
  if (d < 14) return plural(Math.floor(d), "day");
  if (d < 90) return plural(Math.floor(d / 7), "week");
  if (d < 730) return plural(Math.floor(d / 30), "month");
  return plural(Math.floor(d / 365), "year");
}
