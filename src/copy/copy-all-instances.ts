// --all: every image of an index/list, then the index/list rewritten to point at what was written.
import { UnsupportedError } from "../errors.js";
import { encodeManifest, type EncodedManifest } from "../manifest/build-manifest.js";
import { convertIndex, manifestTypeFor } from "../manifest/convert-manifest.js";
import type { Descriptor, ImageIndex, ManifestFormat } from "../manifest/manifest-types.js";
import { formatOfManifestType, parseManifest } from "../manifest/parse-manifest.js";
import type { Digest, ManifestBlob } from "../types.js";
import { sha256 } from "../digest.js";
import type { CopyRun } from "./copy-run.js";
import { copySingleImage } from "./copy-single-image.js";
import { outputTypeCandidates } from "./manifest-type-choice.js";
import { readInstanceManifest } from "./small-blobs.js";
import { cannotModifyReason, readSignatures, writeManifest, writeSignatures, type MetadataLabel } from "./write-metadata.js";

export async function copyAllInstances(run: CopyRun, top: ManifestBlob, index: ImageIndex, indexType: string): Promise<EncodedManifest> {
  const what = `index of ${run.srcName}`;
  const supported = run.dest.supportedManifestTypes();
  const srcFormat = formatOfManifestType(indexType) as ManifestFormat;
  const signatures = await readSignatures(run);
  const cannotModify = cannotModifyReason(run, signatures);
  const candidates = outputTypeCandidates(indexType, "index", supported, run.options.format, run.destName);
  const outType = pickIndexType(candidates, index, indexType, cannotModify, what);
  const outFormat = formatOfManifestType(outType) as ManifestFormat;

  const entries: Descriptor[] = [];
  const count = index.manifests.length;
  for (const [i, entry] of index.manifests.entries()) {
    run.signal.throwIfAborted();
    const image = { kind: "image", digest: entry.digest, position: i + 1, count } as const;
    run.progress({ ...image, bytes: 0, total: -1, state: "start" });
    const blob = await readInstanceManifest(run, entry);
    const parsed = parseManifest(blob.bytes, entry.mediaType, `manifest ${entry.digest} of ${run.srcName}`);
    if (parsed.kind !== "manifest") throw new UnsupportedError(`${what}: entry ${entry.digest} is itself an index; nested indexes are not supported`);
    const instanceCandidates =
      run.options.format || outFormat !== srcFormat
        ? [manifestTypeFor(outFormat, "manifest")]
        : outputTypeCandidates(parsed.mediaType, "manifest", supported, undefined, run.destName);
    const instanceSignatures = await readSignatures(run, entry.digest);
    const written = await copySingleImage(
      run,
      { blob, manifest: parsed.manifest, mediaType: parsed.mediaType, format: parsed.format, instance: entry.digest },
      instanceCandidates,
      cannotModifyReason(run, instanceSignatures, cannotModify),
    );
    const label = labelFor(entry.digest, written.digest);
    await writeSignatures(run, instanceSignatures, written.digest, label);
    await writeManifest(run, written.bytes, written.mediaType, written.digest, label);
    run.progress({ ...image, ...(label.storedDigest ? { storedDigest: label.storedDigest } : {}), bytes: 0, total: -1, state: "done" });
    entries.push(
      written.digest === entry.digest && written.mediaType === entry.mediaType
        ? entry
        : { ...entry, mediaType: written.mediaType, digest: written.digest, size: written.bytes.length },
    );
  }

  let result: EncodedManifest;
  if (outType === indexType && entries.every((e, i) => e === index.manifests[i])) {
    result = { bytes: top.bytes, mediaType: outType, digest: sha256(top.bytes) };
  } else {
    if (cannotModify) throw new UnsupportedError(`${what}: copying it would change the index, but ${cannotModify}`);
    const updated: ImageIndex = { ...index, manifests: entries };
    result = encodeManifest(outFormat === srcFormat ? updated : convertIndex(updated, outFormat, what), outType);
  }
  const listLabel: MetadataLabel = { ...labelFor(sha256(top.bytes), result.digest), list: true };
  await writeSignatures(run, signatures, undefined, listLabel);
  await writeManifest(run, result.bytes, result.mediaType, undefined, listLabel);
  return result;
}

/** Progress names a manifest by its source digest, and by the written one too when conversion changed it. */
function labelFor(source: Digest, written: Digest): MetadataLabel {
  return written === source ? { digest: source } : { digest: source, storedDigest: written };
}

/** The first index type the index converts to (a Docker list needs a platform on every entry). */
function pickIndexType(candidates: string[], index: ImageIndex, indexType: string, cannotModify: string | undefined, what: string): string {
  let firstError: unknown;
  for (const type of candidates) {
    try {
      if (type !== indexType) {
        if (cannotModify) throw new UnsupportedError(`${what}: the destination needs ${type}, but ${cannotModify}`);
        convertIndex(index, formatOfManifestType(type) as ManifestFormat, what);
      }
      return type;
    } catch (err) {
      firstError ??= err;
    }
  }
  throw firstError;
}
