// The blob-info cache: for a layer's DiffID, which compressed blobs were written where (a
// destination location such as an OCI layout), with which algorithm and level. It only suggests:
// a destination checks a candidate before the engine skips compressing the layer, so a wrong or
// stale entry costs a lookup, never a wrong image. One JSON file in $XDG_CACHE_HOME/imgcopy,
// replaced atomically; a corrupt file is reported and the cache starts empty.
import { homedir } from "node:os";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { rewriteJsonFile, versionedJsonRecord } from "./atomic-fs.js";
import { isDigest } from "./digest.js";
import type { CompressionAlgorithm, Digest } from "./types.js";

const FILE_NAME = "blob-info-cache-v1.json";
/** Entries kept per location and DiffID: the newest few are enough to find a reusable blob. */
const MAX_PER_DIFF_ID = 4;
/** Locations kept (the least recently written go first), so the file stays small. */
const MAX_LOCATIONS = 64;

/** A compressed blob whose uncompressed content is a given DiffID. */
export interface CachedBlob {
  digest: Digest;
  size: number;
  algorithm: CompressionAlgorithm;
  /** The level it was compressed with, when imgcopy wrote it. */
  level?: number;
}

interface CacheFile {
  version: 1;
  /** location -> DiffID -> blobs, newest first. Object key order = least recently written first. */
  locations: Record<string, Record<Digest, CachedBlob[]>>;
}

/** $XDG_CACHE_HOME/imgcopy, else ~/.cache/imgcopy. */
export function cacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith("/") ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), ".cache");
  return join(base, "imgcopy");
}

export class BlobInfoCache {
  private changed = false;

  private constructor(
    readonly path: string,
    private readonly data: CacheFile,
  ) {}

  /** Reads the cache of `env`'s user; a missing file is an empty cache, a corrupt one too (with a warning). */
  static async open(env: NodeJS.ProcessEnv, warn: (message: string) => void): Promise<BlobInfoCache> {
    const path = join(cacheDir(env), FILE_NAME);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      return new BlobInfoCache(path, emptyFile()); // none yet, or not readable: copies work without it
    }
    const data = parseCacheFile(text);
    if (!data) {
      warn(`blob-info cache ${path} is corrupt; starting with an empty one`);
      return new BlobInfoCache(path, emptyFile());
    }
    return new BlobInfoCache(path, data);
  }

  /** Blobs remembered at `location` for `diffId` compressed with `algorithm`, newest first. */
  candidates(location: string, diffId: Digest, algorithm: CompressionAlgorithm): CachedBlob[] {
    return (this.data.locations[location]?.[diffId] ?? []).filter((b) => b.algorithm === algorithm);
  }

  /**
   * Blobs remembered for `diffId` compressed with `algorithm` at the locations starting with
   * `prefix` other than `except`, the most recently written location first.
   */
  nearbyCandidates(prefix: string, except: string, diffId: Digest, algorithm: CompressionAlgorithm): { location: string; blob: CachedBlob }[] {
    const out: { location: string; blob: CachedBlob }[] = [];
    for (const location of Object.keys(this.data.locations).reverse()) {
      if (location === except || !location.startsWith(prefix)) continue;
      for (const blob of this.candidates(location, diffId, algorithm)) out.push({ location, blob });
    }
    return out;
  }

  /** Remembers that `blob` at `location` holds `diffId` compressed. */
  record(location: string, diffId: Digest, blob: CachedBlob): void {
    const locations = this.data.locations;
    const byDiffId = locations[location] ?? {};
    delete locations[location]; // re-inserted last: the most recently written location
    locations[location] = byDiffId;
    const rest = (byDiffId[diffId] ?? []).filter((b) => b.digest !== blob.digest);
    byDiffId[diffId] = [{ ...blob }, ...rest].slice(0, MAX_PER_DIFF_ID);
    const names = Object.keys(locations);
    for (const name of names.slice(0, Math.max(0, names.length - MAX_LOCATIONS))) delete locations[name];
    this.changed = true;
  }

  /** Forgets a blob that turned out to be missing or wrong. */
  forget(location: string, diffId: Digest, digest: Digest): void {
    const byDiffId = this.data.locations[location];
    const blobs = byDiffId?.[diffId];
    if (!byDiffId || !blobs) return;
    byDiffId[diffId] = blobs.filter((b) => b.digest !== digest);
    this.changed = true;
  }

  /**
   * Writes the cache (atomically: a crash leaves the old file or the new one). Entries another
   * process wrote meanwhile are merged in, ours winning. A cache that cannot be written (a
   * read-only or missing home) is not an error: it is only an aid.
   */
  async save(): Promise<void> {
    if (!this.changed) return;
    try {
      await rewriteJsonFile(this.path, parseCacheFile, emptyFile, (onDisk) => {
        for (const [location, byDiffId] of Object.entries(this.data.locations)) {
          const merged = onDisk.locations[location] ?? {};
          delete onDisk.locations[location];
          onDisk.locations[location] = { ...merged, ...byDiffId };
        }
        const names = Object.keys(onDisk.locations);
        for (const name of names.slice(0, Math.max(0, names.length - MAX_LOCATIONS))) delete onDisk.locations[name];
      });
      this.changed = false;
    } catch {
      // left as it was
    }
  }
}

function emptyFile(): CacheFile {
  return { version: 1, locations: {} };
}

/** The cache file's contents, keeping only well-formed entries; undefined when it is not a cache file at all. */
function parseCacheFile(text: string): CacheFile | undefined {
  const locations = versionedJsonRecord(text, 1, "locations");
  if (!locations) return undefined;
  const out = emptyFile();
  for (const [location, byDiffId] of Object.entries(locations)) {
    if (typeof byDiffId !== "object" || byDiffId === null) continue;
    const kept: Record<Digest, CachedBlob[]> = {};
    for (const [diffId, blobs] of Object.entries(byDiffId as Record<string, unknown>)) {
      if (!isDigest(diffId) || !Array.isArray(blobs)) continue;
      const good = blobs.filter(isCachedBlob).slice(0, MAX_PER_DIFF_ID);
      if (good.length > 0) kept[diffId] = good;
    }
    out.locations[location] = kept;
  }
  return out;
}

function isCachedBlob(v: unknown): v is CachedBlob {
  const b = v as Partial<CachedBlob> | null;
  return (
    typeof b === "object" && b !== null &&
    typeof b.digest === "string" && isDigest(b.digest) &&
    typeof b.size === "number" && Number.isSafeInteger(b.size) && b.size >= 0 &&
    (b.algorithm === "gzip" || b.algorithm === "zstd") &&
    (b.level === undefined || Number.isInteger(b.level))
  );
}
