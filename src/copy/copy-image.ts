// copyImage: the engine. Opens both ends, copies one image or (--all) every image of an index,
// and commits; on any failure or abort the destination is closed without commit.
import { BlobInfoCache } from "../blob-info-cache.js";
import { AbortedError, UnsupportedError, describeFsError, isImgcopyError } from "../errors.js";
import { chooseInstance } from "../manifest/choose-instance.js";
import type { EncodedManifest } from "../manifest/build-manifest.js";
import { parseManifest } from "../manifest/parse-manifest.js";
import type { ImageDestination, ImageReference, ImageSource, ManifestBlob } from "../types.js";
import type { ParsedManifest } from "../manifest/manifest-types.js";
import { copyAllInstances } from "./copy-all-instances.js";
import { resolveCopyOptions, type CopyOptions, type CopyResult } from "./copy-options.js";
import type { CopyRun } from "./copy-run.js";
import { copySingleImage } from "./copy-single-image.js";
import { optionsForDestination } from "./compression-wish.js";
import { outputTypeCandidates } from "./manifest-type-choice.js";
import { readInstanceManifest } from "./small-blobs.js";
import { cannotModifyReason, readSignatures, writeManifest, writeSignatures } from "./write-metadata.js";

/** Copies the image `src` names to `dest`; see CopyOptions. */
export async function copyImage(src: ImageReference, dest: ImageReference, options: CopyOptions = {}): Promise<CopyResult> {
  const srcName = src.toString();
  const destName = dest.toString();
  const resolved = await resolveCopyOptions(options);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) throw new AbortedError(`copy of ${srcName} to ${destName} aborted`);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const warn = options.destCtx?.warn ?? options.sourceCtx?.warn ?? ((): void => undefined);
  const progress = options.onProgress ?? ((): void => undefined);

  let destination: ImageDestination | undefined;
  let source: ImageSource | undefined;
  let succeeded = false;
  try {
    const signal = options.signal ? { signal: options.signal } : {};
    // Both ends open at once: a registry's round trips (pings, manifest) overlap the destination's
    // files and module loading. Whichever opened is closed below; the destination's error comes first.
    // (Each call inside an async function: a plugin that throws instead of rejecting still lets the other end be closed.)
    const [opened, read] = await Promise.allSettled([
      (async () => dest.newImageDestination({ ...signal, ...options.destCtx }))(),
      (async () => src.newImageSource({ ...signal, ...options.sourceCtx }))(),
    ]);
    if (read.status === "fulfilled") source = read.value;
    if (opened.status === "rejected") throw opened.reason;
    destination = opened.value;
    if (read.status === "rejected") throw read.reason;
    const forDest = optionsForDestination(resolved, destination, destName, warn);
    const location = forDest.blobInfoCache ? destination.blobCacheLocation?.() : undefined;
    const cache = location === undefined ? undefined : { cache: await BlobInfoCache.open(options.destCtx?.env ?? process.env, warn), location };
    const run: CopyRun = { source: read.value, dest: destination, srcName, destName, options: forDest, signal: controller.signal, progress, warn, cache };
    const written = await copyTopLevel(run);
    controller.signal.throwIfAborted();
    await destination.commit();
    succeeded = true;
    await cache?.cache.save();
    return { manifestDigest: written.digest, manifest: written.bytes, mediaType: written.mediaType };
  } catch (err) {
    // After an abort, whatever failed (a premature close, an I/O error) failed because of it.
    if (controller.signal.aborted && !(isImgcopyError(err) && err.code === "EABORT")) {
      throw new AbortedError(`copy of ${srcName} to ${destName} aborted`, { cause: err });
    }
    throw describeFsError(err, `copy of ${srcName} to ${destName}`);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    for (const end of [source, destination]) {
      await end?.close().catch((err: unknown) => {
        if (succeeded) warn(`closing ${end === source ? srcName : destName}: ${(err as Error).message}`);
      });
    }
  }
}

async function copyTopLevel(run: CopyRun): Promise<EncodedManifest> {
  const top = await run.source.getManifest();
  const what = `manifest of ${run.srcName}`;
  const parsed = parseManifest(top.bytes, top.mediaType, what);
  if (parsed.kind === "index") {
    if (run.options.all) return copyAllInstances(run, top, parsed.index, parsed.mediaType);
    const entry = chooseInstance(parsed.index, what);
    const blob = await readInstanceManifest(run, entry);
    const instance = parseManifest(blob.bytes, entry.mediaType, `manifest ${entry.digest} of ${run.srcName}`);
    return copyOneImage(run, blob, instance, entry.digest);
  }
  return copyOneImage(run, top, parsed, undefined);
}

async function copyOneImage(run: CopyRun, blob: ManifestBlob, parsed: ParsedManifest, instance: string | undefined): Promise<EncodedManifest> {
  if (parsed.kind !== "manifest") {
    throw new UnsupportedError(`manifest ${instance} of ${run.srcName} is itself an index; nested indexes are not supported`);
  }
  const signatures = await readSignatures(run, instance);
  const candidates = outputTypeCandidates(parsed.mediaType, "manifest", run.dest.supportedManifestTypes(), run.options.format, run.destName);
  const written = await copySingleImage(
    run,
    { blob, manifest: parsed.manifest, mediaType: parsed.mediaType, format: parsed.format, instance },
    candidates,
    cannotModifyReason(run, signatures),
  );
  await writeSignatures(run, signatures);
  await writeManifest(run, written.bytes, written.mediaType);
  return written;
}
