// `imgcopy [copy] SRC DEST`: copies an image. Progress goes to stderr; stdout stays free for the
// image itself (`imgcopy oci:x docker-archive:/dev/stdout > a.tar`).
import type { ProgressEvent } from "../../types.js";
import { InterruptedError } from "../error-report.js";
import { loadCliPlugins, parseCliReference, systemContextFrom, warn } from "../global-options.js";
import { abortOnSignals } from "../interrupt.js";
import { enterUserNamespaceIfNeeded } from "../user-namespace-gate.js";
import { isImgcopyError, type NetworkError } from "../../errors.js";
import { copyContexts, engineOptionsFrom, type CopyArgs } from "./copy-options.js";
import { checkDigestfile, ignoredAnnotationWarning, ignoredCommitOptionsWarning, nameReferenceIn } from "./copy-checks.js";

// Longer than any copy waits between two events; only keeps the process alive (see runCopy).
const KEEP_ALIVE_MS = 1 << 30;

/** Runs `imgcopy [copy] SRC DEST` with its parsed arguments. */
export async function runCopy(args: CopyArgs): Promise<void> {
  const { sourceCtx, destCtx } = copyContexts(systemContextFrom(args), args);
  const engineOptions = engineOptionsFrom(args);
  if (args.digestfile !== undefined) await checkDigestfile(args.digestfile);
  await loadCliPlugins(args);
  const src = await parseCliReference(args.src);
  const dest = await parseCliReference(args.dest);
  await enterUserNamespaceIfNeeded([src.userNamespace?.bind(src, sourceCtx), dest.userNamespace?.bind(dest, destCtx)], args.debug);
  const ignored = ignoredCommitOptionsWarning(args, src);
  if (ignored) warn(ignored);

  // The engine and the renderers are loaded only by the commands that copy.
  const [{ copyImage }, { createProgressRenderer }, { writeFileAtomic }] = await Promise.all([
    import("../../copy/index.js"),
    import("../progress/progress-renderer.js"),
    import("../../atomic-fs.js"),
  ]);
  const progress = await createProgressRenderer(args.progress, args.quiet, process.stderr);
  const interrupt = abortOnSignals();
  // A source that stalls without a pending handle (a stream waiting on nothing) would let Node end the
  // process mid-copy (exit 13, temp files left); a ref'd timer keeps it alive so SIGINT can abort cleanly.
  const keepAlive = setInterval(() => {}, KEEP_ALIVE_MS);
  try {
    const copyOnce = () =>
      copyImage(src, dest, {
        ...engineOptions,
        sourceCtx,
        destCtx,
        onProgress: (e: ProgressEvent) => progress.onEvent(e),
        signal: interrupt.signal,
      });
    const result = await withRetries(copyOnce, destCtx.retryTimes ?? 0, destCtx.retryDelayMs ?? 1000, interrupt.signal);
    progress.finish();
    const annotation = ignoredAnnotationWarning(args, src, result.mediaType);
    if (annotation) warn(annotation);
    if (args.digestfile !== undefined) await writeFileAtomic(args.digestfile, result.manifestDigest);
    // A signal that came during the final write (the destination's commit, which is not cut short
    // halfway): the image is there, complete; say so, and still exit with the signal's code.
    const late = interrupt.received();
    if (late) {
      throw new InterruptedError(late, { detail: ` while the image was being written: the copy to ${dest.toString()} was already committed and is complete` });
    }
  } catch (err) {
    if (err instanceof InterruptedError) throw err; // the late signal above: progress is finished already
    progress.finish();
    const sig = interrupt.received();
    if (sig) throw new InterruptedError(sig, { cause: err });
    throw nameReferenceIn(err, [dest, src]);
  } finally {
    clearInterval(keepAlive);
    interrupt.dispose();
  }
}

/**
 * --retry-times for the whole copy (skopeo's retry.IfNecessary): a network failure that a request
 * could not retry itself (a streamed upload cut off) restarts the copy from a re-read source;
 * blobs already in place are then skipped.
 */
async function withRetries<T>(attempt: () => Promise<T>, times: number, firstDelayMs: number, signal: AbortSignal): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const retryable = isImgcopyError(err) && err.code === "ENETWORK" && (err as NetworkError).retryable;
      if (!retryable || n >= times || signal.aborted) throw err;
      const delay = Math.min(60_000, firstDelayMs * 2 ** n);
      warn(`${(err as Error).message}; retrying in ${delay / 1000} s (${n + 1}/${times})`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
