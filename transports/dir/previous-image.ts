// Compressed layers of the image a dir: copy replaces, by DiffID, so that exporting the same layers
// again (with --dest-compress) does not compress them again. The previous image's own manifest and
// config are the proof (rootfs.diff_ids[i] <-> layers[i]); a blob-info cache candidate is decompressed
// and hashed before use. A reused blob is copied into the new image (copy_file_range / reflink).
import { copyFile, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { uncompressedDigestOfFile } from "../../src/compression/file-digest.js";
import { compressionOfMediaType } from "../../src/compression/layer-media-types.js";
import { isDigest } from "../../src/digest.js";
import type { BlobInfo, CompressionAlgorithm, Digest } from "../../src/types.js";
import { blobFile } from "./dir-layout.js";

interface PreviousLayer {
  digest: Digest;
  size: number;
  mediaType: string;
}

const MAX_JSON = 4 * 1024 * 1024;

async function readSmallJson(path: string): Promise<unknown> {
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size > MAX_JSON) return undefined;
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** DiffID -> the layers of the image in `dir` (its manifest.json and config), empty when there is none. */
export async function previousLayers(dir: string, what: string): Promise<Map<Digest, PreviousLayer[]>> {
  const out = new Map<Digest, PreviousLayer[]>();
  const m = (await readSmallJson(join(dir, "manifest.json"))) as { config?: { digest?: unknown }; layers?: unknown } | undefined;
  if (!m || !Array.isArray(m.layers) || typeof m.config?.digest !== "string" || !isDigest(m.config.digest)) return out;
  const config = (await readSmallJson(join(dir, blobFile(m.config.digest, what)))) as { rootfs?: { diff_ids?: unknown } } | undefined;
  const diffIds = config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== m.layers.length) return out;
  (m.layers as Array<{ digest?: unknown; size?: unknown; mediaType?: unknown } | null>).forEach((layer, i) => {
    const diffId = diffIds[i] as unknown;
    if (typeof diffId !== "string" || !isDigest(diffId) || typeof layer?.digest !== "string" || !isDigest(layer.digest)) return;
    if (typeof layer.size !== "number" || typeof layer.mediaType !== "string") return;
    out.set(diffId, [...(out.get(diffId) ?? []), { digest: layer.digest, size: layer.size, mediaType: layer.mediaType }]);
  });
  return out;
}

/**
 * Copies into `staging` a blob of the previous image in `dir` that holds `diffId` compressed with
 * `algorithm` (from its own records, then from `candidates`, verified); undefined when there is none.
 */
export async function reusePreviousBlob(
  dir: string,
  staging: string,
  diffId: Digest,
  algorithm: CompressionAlgorithm,
  candidates: readonly BlobInfo[],
  known: Map<Digest, PreviousLayer[]>,
  what: string,
): Promise<BlobInfo | undefined> {
  const sized = async (digest: Digest, size: number): Promise<boolean> => {
    const st = await stat(join(dir, blobFile(digest, what))).catch(() => undefined);
    return st !== undefined && st.isFile() && st.size === size;
  };
  let found: BlobInfo | undefined;
  for (const layer of known.get(diffId) ?? []) {
    if (compressionOfMediaType(layer.mediaType) === algorithm && (await sized(layer.digest, layer.size))) {
      found = { digest: layer.digest, size: layer.size, mediaType: layer.mediaType, compression: algorithm, uncompressedDigest: diffId };
      break;
    }
  }
  for (const c of found ? [] : candidates) {
    if (!isDigest(c.digest) || c.compression !== algorithm || !(await sized(c.digest, c.size))) continue;
    if ((await uncompressedDigestOfFile(join(dir, blobFile(c.digest, what)), algorithm)) === diffId) {
      found = { digest: c.digest, size: c.size, compression: algorithm, uncompressedDigest: diffId };
      break;
    }
  }
  if (!found) return undefined;
  try {
    await copyFile(join(dir, blobFile(found.digest, what)), join(staging, blobFile(found.digest, what)));
  } catch {
    return undefined; // gone meanwhile: compress it instead
  }
  return found;
}
