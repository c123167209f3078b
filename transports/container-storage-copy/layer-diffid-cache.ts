// The per-user cache of container layers' DiffIDs: a layer fingerprint (./layer-fingerprint.ts)
// -> the DiffID and uncompressed size imgcopy computed when it last made that layer's tar. One
// JSON file beside the blob-info cache ($XDG_CACHE_HOME/imgcopy), replaced atomically; a corrupt
// file is reported and the cache starts empty. A file another user could have written is not used.
import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { rewriteJsonFile, versionedJsonRecord } from "../../src/atomic-fs.js";
import { cacheDir } from "../../src/blob-info-cache.js";
import { isDigest } from "../../src/digest.js";
import type { Digest } from "../../src/types.js";

const FILE_NAME = "container-layer-diffids-v1.json";
/** Fingerprints kept (the least recently written go first): a few per container a user exports. */
const MAX_ENTRIES = 256;

export interface KnownLayer {
  diffId: Digest;
  size: number;
}

interface CacheFile {
  version: 1;
  /** fingerprint -> layer; object key order = least recently written first. */
  layers: Record<string, KnownLayer>;
}

export class LayerDiffIdCache {
  private readonly written = new Map<string, KnownLayer>();

  private constructor(
    readonly path: string,
    private readonly data: CacheFile,
    /** False when the file is not trusted (another owner, or writable by others): neither used nor replaced. */
    private readonly usable: boolean,
  ) {}

  static async open(env: NodeJS.ProcessEnv, warn: (message: string) => void): Promise<LayerDiffIdCache> {
    const path = join(cacheDir(env), FILE_NAME);
    const st = await lstat(path).catch(() => undefined);
    if (!st) return new LayerDiffIdCache(path, emptyFile(), true);
    const uid = process.geteuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) {
      warn(`layer DiffID cache ${path} is not a file only its owner (this user) can write; not using it`);
      return new LayerDiffIdCache(path, emptyFile(), false);
    }
    const text = await readFile(path, "utf8").catch(() => "");
    const data = parseCacheFile(text);
    if (!data) {
      warn(`layer DiffID cache ${path} is corrupt; starting with an empty one`);
      return new LayerDiffIdCache(path, emptyFile(), true);
    }
    return new LayerDiffIdCache(path, data, true);
  }

  get(fingerprint: string): KnownLayer | undefined {
    if (!this.usable) return undefined;
    const known = this.data.layers[fingerprint];
    return known ? { ...known } : undefined;
  }

  /** Remembers (or corrects) the layer of `fingerprint`; written by save(). */
  record(fingerprint: string, layer: KnownLayer): void {
    if (!this.usable) return;
    delete this.data.layers[fingerprint];
    this.data.layers[fingerprint] = { ...layer };
    this.written.set(fingerprint, { ...layer });
  }

  /**
   * Writes what was recorded, merged into what is on disk now (another export may have written
   * meanwhile), atomically. A cache that cannot be written is not an error: it is only an aid.
   */
  async save(): Promise<void> {
    if (this.written.size === 0 || !this.usable) return;
    try {
      await rewriteJsonFile(this.path, parseCacheFile, emptyFile, (onDisk) => {
        for (const [fingerprint, layer] of this.written) {
          delete onDisk.layers[fingerprint];
          onDisk.layers[fingerprint] = layer;
        }
        const keys = Object.keys(onDisk.layers);
        for (const key of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete onDisk.layers[key];
      });
      this.written.clear();
    } catch {
      // left as it was
    }
  }
}

function emptyFile(): CacheFile {
  return { version: 1, layers: {} };
}

/** The file's well-formed entries; undefined when it is not such a file at all. */
function parseCacheFile(text: string): CacheFile | undefined {
  const layers = versionedJsonRecord(text, 1, "layers");
  if (!layers) return undefined;
  const out = emptyFile();
  for (const [fingerprint, value] of Object.entries(layers)) {
    const v = value as Partial<KnownLayer> | null;
    if (!isDigest(fingerprint) || typeof v !== "object" || v === null) continue;
    if (typeof v.diffId !== "string" || !isDigest(v.diffId) || typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0) continue;
    out.layers[fingerprint] = { diffId: v.diffId, size: v.size };
  }
  return out;
}
