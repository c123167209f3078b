// The blobs that index.json's images use, so that cleaning up an abandoned copy never removes a
// blob a concurrent copy has committed in the meantime.
import { isDigest } from "../../src/digest.js";
import { blobPath, readSmallFile, type OciIndexFile } from "./layout-files.js";

interface ManifestLike {
  config?: { digest?: unknown };
  layers?: { digest?: unknown }[];
  manifests?: { digest?: unknown }[];
  subject?: { digest?: unknown };
  blobs?: { digest?: unknown }[];
}

/** Every digest reachable from `index` (manifests, their configs and layers, nested indexes). */
export async function reachableBlobs(layoutPath: string, index: OciIndexFile): Promise<Set<string>> {
  const seen = new Set<string>();
  const pending: string[] = index.manifests.map((d) => d.digest);
  while (pending.length > 0) {
    const digest = pending.pop()!;
    if (!isDigest(digest) || seen.has(digest)) continue;
    seen.add(digest);
    const m = await readManifestLike(layoutPath, digest);
    if (!m) continue;
    const children = [m.config, m.subject, ...(m.layers ?? []), ...(m.manifests ?? []), ...(m.blobs ?? [])];
    for (const c of children) {
      if (c && typeof c.digest === "string") pending.push(c.digest);
    }
  }
  return seen;
}

/** The blob as a manifest, or undefined when it is missing, big (a layer) or not JSON. */
async function readManifestLike(layoutPath: string, digest: string): Promise<ManifestLike | undefined> {
  try {
    const bytes = await readSmallFile(blobPath(layoutPath, digest, digest), digest);
    if (!/^\s*\{/.test(bytes.subarray(0, 64).toString("latin1"))) return undefined; // not a JSON object: a layer
    const v = JSON.parse(bytes.toString("utf8")) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as ManifestLike) : undefined;
  } catch {
    return undefined; // missing, too big or not JSON: it references nothing
  }
}
