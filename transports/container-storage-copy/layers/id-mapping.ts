// Host ids on disk back to container ids, through a layer's uidmap/gidmap ranges.
import type { IdMapping } from "../store/record-types.js";

/** What the kernel shows for an id outside a user namespace's map (overflowuid/overflowgid). */
export const OVERFLOW_ID = 65534;

export class IdMapper {
  private unmapped = 0;

  constructor(
    private readonly uidmap: readonly IdMapping[] | undefined,
    private readonly gidmap: readonly IdMapping[] | undefined,
  ) {}

  /** The container uid for a host uid; OVERFLOW_ID (counted) when no range holds it. */
  uid(hostId: number): number {
    return this.map(this.uidmap, hostId);
  }

  gid(hostId: number): number {
    return this.map(this.gidmap, hostId);
  }

  /** Like uid(), but undefined instead of the overflow id (for comparisons and whiteouts). */
  tryUid(hostId: number): number | undefined {
    return toContainerId(this.uidmap, hostId);
  }

  tryGid(hostId: number): number | undefined {
    return toContainerId(this.gidmap, hostId);
  }

  /** How many ids had no mapping so far. */
  get unmappedCount(): number {
    return this.unmapped;
  }

  private map(ranges: readonly IdMapping[] | undefined, hostId: number): number {
    const id = toContainerId(ranges, hostId);
    if (id !== undefined) return id;
    this.unmapped++;
    return OVERFLOW_ID;
  }
}

/** An empty or absent map is the identity; otherwise the id must fall in a range. */
export function toContainerId(ranges: readonly IdMapping[] | undefined, hostId: number): number | undefined {
  if (!ranges || ranges.length === 0) return hostId;
  for (const r of ranges) {
    if (hostId >= r.host_id && hostId < r.host_id + r.size) return r.container_id + (hostId - r.host_id);
  }
  return undefined;
}
