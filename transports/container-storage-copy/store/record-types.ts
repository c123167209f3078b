// The JSON records of a containers/storage store, as they are on disk (see
// shared/docs/containers-storage.md). Fields that may be absent are optional.

export interface IdMapping {
  container_id: number;
  host_id: number;
  size: number;
}

/** Compression of a layer's original tarball, as containers/storage numbers it. */
export const enum LayerCompression {
  None = 0,
  Bzip2 = 1,
  Gzip = 2,
  Xz = 3,
  Zstd = 4,
}

export interface LayerRecord {
  id: string;
  names?: string[];
  parent?: string;
  created?: string;
  "diff-digest"?: string;
  "diff-size"?: number;
  "compressed-diff-digest"?: string;
  "compressed-size"?: number;
  compression?: number;
  uidset?: number[];
  gidset?: number[];
  uidmap?: IdMapping[];
  gidmap?: IdMapping[];
  flags?: Record<string, unknown>;
  metadata?: string;
  "big-data-names"?: string[];
}

export interface ImageRecord {
  id: string;
  digest?: string;
  names?: string[];
  "names-history"?: string[];
  layer?: string;
  metadata?: string;
  "big-data-names"?: string[];
  "big-data-sizes"?: Record<string, number>;
  "big-data-digests"?: Record<string, string>;
  created?: string;
  flags?: Record<string, unknown>;
}

export interface ContainerRecord {
  id: string;
  names?: string[];
  image: string;
  layer: string;
  metadata?: string;
  created?: string;
  uidmap?: IdMapping[];
  gidmap?: IdMapping[];
  flags?: Record<string, unknown>;
}

export type StorageDriver = "vfs" | "overlay";

/** Where a store is and how it is laid out; produced by the store locator. */
export interface StoreLocation {
  driver: StorageDriver;
  graphRoot: string;
  runRoot: string;
  /** Read-only additional image stores (same layout as graphRoot). */
  additionalImageStores: string[];
  /** transient_store = true: volatile records live under runRoot. */
  transientStore: boolean;
}
