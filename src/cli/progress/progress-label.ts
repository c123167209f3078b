// How progress names an item: "blob 1a2b3c4d5e6f", like skopeo.
import { digestHex, isDigest } from "../../digest.js";
import type { ProgressEvent } from "../../types.js";

/** 12 hex digits of the item's digest: the source's, or the stored one when the source had a placeholder. */
export function shortId(event: ProgressEvent): string {
  if (event.placeholder) return event.storedDigest ? digestHex(event.storedDigest).slice(0, 12) : "(new layer)";
  const d = event.digest !== undefined && isDigest(event.digest) ? event.digest : (event.storedDigest ?? event.digest);
  return d === undefined ? "" : digestHex(d).slice(0, 12);
}

/** "Copying blob 1a2b3c4d5e6f", "Copying image 1a2b3c4d5e6f (1/2)", "Writing manifest to image destination". */
export function itemTitle(event: ProgressEvent): string {
  switch (event.kind) {
    case "blob":
      return `Copying blob ${shortId(event)}`;
    case "config":
      return `Copying config ${shortId(event)}`;
    case "image":
      return `Copying image ${shortId(event)}${event.position !== undefined && event.count !== undefined ? ` (${event.position}/${event.count})` : ""}`;
    case "manifest":
      return event.list ? "Writing manifest list to image destination" : "Writing manifest to image destination";
    case "signatures":
      return event.list ? "Storing list signatures" : "Storing signatures";
  }
}

/** What tells one item from another in a stream of events (a list copy writes one manifest per image, then the list's). */
export function itemKey(event: ProgressEvent): string {
  return `${event.kind}:${event.list ? "list:" : ""}${event.digest ?? ""}`;
}

/** Bytes in binary units, as progress bars show them. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)}${units[i]}`;
}
