// A placeholder layer whose DiffID its source expects (BlobInfo.expectedUncompressed, e.g. an
// unchanged container layer): a blob of that DiffID the destination already holds stands in for it,
// checked as any reuse is; otherwise the layer is made as any placeholder, and the DiffID computed
// from its bytes goes back to the source (ImageSource.placeholderCopied).
import { isDigest } from "../digest.js";
import type { BlobInfo } from "../types.js";
import { copyLayer, reuseLayer, type CopiedLayer, type LayerJob } from "./copy-layer.js";
import type { CopyRun } from "./copy-run.js";

/**
 * copyLayer, trying the expected DiffID first: only with the blob-info cache on (one switch for
 * every cache), and not with --verify-diffids (which asks for every DiffID to come from bytes).
 */
export async function copyLayerOrExpected(run: CopyRun, job: LayerJob, signal: AbortSignal): Promise<CopiedLayer> {
  const { info } = job;
  const expected = info.expectedUncompressed;
  const trusted = run.options.blobInfoCache && !run.options.verifyDiffIds;
  // Only a plain tar: its DiffID is then the digest of the blob it would be kept as.
  if (info.placeholder && expected && trusted && info.compression === "none" && isDigest(expected.digest) && expected.size >= 0) {
    const { placeholder: _placeholder, expectedUncompressed: _expected, ...rest } = info;
    const known: BlobInfo & { mediaType: string } = { ...rest, digest: expected.digest, size: expected.size, uncompressedDigest: expected.digest };
    const reused = await reuseLayer(run, { ...job, info: known });
    if (reused) return { descriptor: reused.descriptor, diffId: expected.digest };
  }
  return copyLayer(run, job, signal);
}

/** Tells the source the DiffIDs of the placeholder layers that were made (not reused) and stored. */
export async function reportMadePlaceholders(run: CopyRun, infos: readonly BlobInfo[], copied: readonly CopiedLayer[]): Promise<void> {
  if (!run.options.blobInfoCache || !run.source.placeholderCopied) return;
  for (const [i, info] of infos.entries()) {
    const layer = copied[i];
    if (!info.placeholder || layer?.diffId === undefined || layer.uncompressedSize === undefined) continue;
    await run.source.placeholderCopied(info, { diffId: layer.diffId, size: layer.uncompressedSize });
  }
}
