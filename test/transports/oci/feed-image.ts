// Drives an ImageDestination by hand (the engine is written elsewhere): every blob of a source's
// image manifest, then the manifest. Blobs are copied as they are (no compression changes).
import type { ImageDestination, ImageSource } from "../../../src/types.js";
import type { ManifestJson } from "./scratch-image.js";

export interface FeedOptions {
  /** Replaces the manifest bytes before they are written (e.g. to make a distinct image). */
  editManifest?: (m: Record<string, unknown>) => Record<string, unknown>;
  /** Stop before commit (the caller commits or closes). */
  noCommit?: boolean;
}

/** Copies the image `src` names into `dest`; returns the digests it wrote or reused. */
export async function feedImage(src: ImageSource, dest: ImageDestination, opts: FeedOptions = {}): Promise<{ reused: string[]; written: string[]; manifestBytes: Uint8Array }> {
  const { bytes, mediaType } = await src.getManifest();
  const manifest = JSON.parse(Buffer.from(bytes).toString("utf8")) as ManifestJson;
  const reused: string[] = [];
  const written: string[] = [];
  const blobs = [...manifest.layers.map((l) => ({ ...l, isConfig: false })), { ...manifest.config, isConfig: true }];
  await Promise.all(
    blobs.map(async (b) => {
      const info = { digest: b.digest, size: b.size, mediaType: b.mediaType };
      if (await dest.tryReusingBlob(info)) {
        reused.push(b.digest);
        return;
      }
      const { stream } = await src.getBlob(info);
      const stored = await dest.putBlob(stream, info, { isConfig: b.isConfig });
      if (stored.digest !== b.digest || stored.size !== b.size) throw new Error(`putBlob stored ${stored.digest}/${stored.size} for ${b.digest}/${b.size}`);
      written.push(b.digest);
    }),
  );
  const out = opts.editManifest
    ? Buffer.from(JSON.stringify(opts.editManifest(JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>)))
    : bytes;
  await dest.putManifest(out, mediaType);
  if (!opts.noCommit) await dest.commit();
  return { reused, written, manifestBytes: out };
}
