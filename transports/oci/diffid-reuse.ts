// Finding a compressed blob already in a layout for a layer's DiffID, so that exporting the same
// layers again does not compress them again. The layout's own images are the proof (a config's
// rootfs.diff_ids[i] and its manifest's layers[i] describe one layer); a blob-info cache candidate
// is a hint, verified by decompressing it before it is used.
import { stat } from "node:fs/promises";
import { compressionOfMediaType } from "../../src/compression/layer-media-types.js";
import { isDigest } from "../../src/digest.js";
import type { BlobInfo, CompressionAlgorithm, Digest } from "../../src/types.js";
import { blobPath, readIndexFile, readSmallFile } from "./layout-files.js";

interface LayoutLayer {
  digest: Digest;
  size: number;
  mediaType: string;
}

interface ManifestLike {
  config?: { digest?: unknown };
  layers?: { digest?: unknown; size?: unknown; mediaType?: unknown }[];
  manifests?: { digest?: unknown }[];
}

/** DiffID -> the layers of the layout's images that hold it (from index.json down; configs read once). */
export async function layersByDiffId(layoutPath: string, what: string): Promise<Map<Digest, LayoutLayer[]>> {
  const out = new Map<Digest, LayoutLayer[]>();
  const index = await readIndexFile(layoutPath, what).catch(() => undefined);
  if (!index) return out;
  const seen = new Set<string>();
  const pending = index.manifests.map((d) => d.digest);
  while (pending.length > 0) {
    const digest = pending.pop() as string;
    if (!isDigest(digest) || seen.has(digest)) continue;
    seen.add(digest);
    const m = (await readJson(layoutPath, digest)) as ManifestLike | undefined;
    if (!m) continue;
    for (const child of m.manifests ?? []) if (typeof child?.digest === "string") pending.push(child.digest);
    if (!Array.isArray(m.layers) || typeof m.config?.digest !== "string" || !isDigest(m.config.digest)) continue;
    const config = (await readJson(layoutPath, m.config.digest)) as { rootfs?: { diff_ids?: unknown } } | undefined;
    const diffIds = config?.rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || diffIds.length !== m.layers.length) continue;
    m.layers.forEach((layer, i) => {
      const diffId = diffIds[i] as unknown;
      if (typeof diffId !== "string" || !isDigest(diffId)) return;
      if (typeof layer?.digest !== "string" || !isDigest(layer.digest) || typeof layer.size !== "number" || typeof layer.mediaType !== "string") return;
      const list = out.get(diffId) ?? [];
      list.push({ digest: layer.digest, size: layer.size, mediaType: layer.mediaType });
      out.set(diffId, list);
    });
  }
  return out;
}

/**
 * A blob of the layout holding `diffId` compressed with `algorithm`: first from the layout's own
 * images, then from `candidates` (each decompressed and hashed: a wrong cache entry is skipped).
 * The blob must be there with the size it is said to have.
 */
export async function findCompressedBlob(
  layoutPath: string,
  diffId: Digest,
  algorithm: CompressionAlgorithm,
  candidates: readonly BlobInfo[],
  known: Map<Digest, LayoutLayer[]>,
  what: string,
): Promise<BlobInfo | undefined> {
  for (const layer of known.get(diffId) ?? []) {
    if (compressionOfMediaType(layer.mediaType) !== algorithm) continue;
    if (await hasBlob(layoutPath, layer.digest, layer.size, what)) {
      return { digest: layer.digest, size: layer.size, mediaType: layer.mediaType, compression: algorithm, uncompressedDigest: diffId };
    }
  }
  for (const c of candidates) {
    if (!isDigest(c.digest) || c.compression !== algorithm || !(await hasBlob(layoutPath, c.digest, c.size, what))) continue;
    // The codecs load only when a candidate must be checked (a copy that compresses nothing never gets here).
    const { uncompressedDigestOfFile } = await import("../../src/compression/file-digest.js");
    if ((await uncompressedDigestOfFile(blobPath(layoutPath, c.digest, what), algorithm)) === diffId) {
      return { digest: c.digest, size: c.size, compression: algorithm, uncompressedDigest: diffId };
    }
  }
  return undefined;
}

async function hasBlob(layoutPath: string, digest: Digest, size: number, what: string): Promise<boolean> {
  const st = await stat(blobPath(layoutPath, digest, what)).catch(() => undefined);
  return st !== undefined && st.isFile() && (size < 0 || st.size === size);
}

async function readJson(layoutPath: string, digest: Digest): Promise<unknown> {
  try {
    const bytes = await readSmallFile(blobPath(layoutPath, digest, digest), digest);
    if (!/^\s*\{/.test(bytes.subarray(0, 64).toString("latin1"))) return undefined; // a layer, not JSON
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}
