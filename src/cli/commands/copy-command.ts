// `imgcopy [copy] SRC DEST`: copies an image. Progress goes to stderr; stdout stays free for the
// image itself (`imgcopy oci:x docker-archive:/dev/stdout > a.tar`).
import type { CommandModule } from "yargs";
import type { ProgressEvent } from "../../types.js";
import { InterruptedError } from "../error-report.js";
import { loadCliPlugins, parseCliReference, systemContextFrom, warn, type GlobalArgs } from "../global-options.js";
import { abortOnSignals } from "../interrupt.js";
import { enterUserNamespaceIfNeeded } from "../user-namespace-gate.js";
import { addCopyOptions, engineOptionsFrom, withCopyContext, type CopyArgs } from "./copy-options.js";
import { checkDigestfile, ignoredAnnotationWarning, ignoredCommitOptionsWarning, nameReferenceIn } from "./copy-checks.js";

export function copyCommand(command: string, describe: string): CommandModule<GlobalArgs, CopyArgs> {
  return { command, describe, builder: addCopyOptions, handler: runCopy };
}

// Longer than any copy waits between two events; only keeps the process alive (see runCopy).
const KEEP_ALIVE_MS = 1 << 30;

async function runCopy(args: CopyArgs): Promise<void> {
  const ctx = withCopyContext(systemContextFrom(args), args);
  const engineOptions = engineOptionsFrom(args);
  if (args.digestfile !== undefined) await checkDigestfile(args.digestfile);
  await loadCliPlugins(args);
  const src = await parseCliReference(args.src);
  const dest = await parseCliReference(args.dest);
  await enterUserNamespaceIfNeeded([src.userNamespace?.bind(src, ctx), dest.userNamespace?.bind(dest, ctx)], args.debug);
  const ignored = ignoredCommitOptionsWarning(args, src);
  if (ignored) warn(ignored);

  // The engine and the renderers are loaded only by the commands that copy.
  const [{ copyImage }, { createProgressRenderer }, { writeFileAtomic }] = await Promise.all([
    import("../../copy/index.js"),
    import("../progress/progress-renderer.js"),
    import("../../atomic-fs.js"),
  ]);
  const progress = createProgressRenderer(args.progress, args.quiet, process.stderr);
  const interrupt = abortOnSignals();
  // A source that stalls without a pending handle (a stream waiting on nothing) would let Node end the
  // process mid-copy (exit 13, temp files left); a ref'd timer keeps it alive so SIGINT can abort cleanly.
  const keepAlive = setInterval(() => {}, KEEP_ALIVE_MS);
  try {
    const result = await copyImage(src, dest, {
      ...engineOptions,
      sourceCtx: ctx,
      destCtx: ctx,
      onProgress: (e: ProgressEvent) => progress.onEvent(e),
      signal: interrupt.signal,
    });
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
