// `imgcopy [copy] SRC DEST`: copies an image. Progress goes to stderr; stdout stays free for the
// image itself (`imgcopy oci:x docker-archive:/dev/stdout > a.tar`).
import type { CommandModule } from "yargs";
import { defaultRegistry } from "../../registry.js";
import type { ProgressEvent } from "../../types.js";
import { InterruptedError } from "../error-report.js";
import { loadCliPlugins, systemContextFrom, type GlobalArgs } from "../global-options.js";
import { abortOnSignals } from "../interrupt.js";
import { addCopyOptions, engineOptionsFrom, withCopyContext, type CopyArgs } from "./copy-options.js";

export function copyCommand(command: string, describe: string): CommandModule<GlobalArgs, CopyArgs> {
  return { command, describe, builder: addCopyOptions, handler: runCopy };
}

async function runCopy(args: CopyArgs): Promise<void> {
  const ctx = withCopyContext(systemContextFrom(args), args);
  const engineOptions = engineOptionsFrom(args);
  await loadCliPlugins(args);
  const src = await defaultRegistry.parseReference(args.src);
  const dest = await defaultRegistry.parseReference(args.dest);

  // The engine and the renderers are loaded only by the commands that copy.
  const [{ copyImage }, { createProgressRenderer }, { writeFileAtomic }] = await Promise.all([
    import("../../copy/index.js"),
    import("../progress/progress-renderer.js"),
    import("../../atomic-fs.js"),
  ]);
  const progress = createProgressRenderer(args.progress, args.quiet, process.stderr);
  const interrupt = abortOnSignals();
  try {
    const result = await copyImage(src, dest, {
      ...engineOptions,
      sourceCtx: ctx,
      destCtx: ctx,
      onProgress: (e: ProgressEvent) => progress.onEvent(e),
      signal: interrupt.signal,
    });
    progress.finish();
    if (args.digestfile !== undefined) await writeFileAtomic(args.digestfile, result.manifestDigest);
  } catch (err) {
    progress.finish();
    const sig = interrupt.received();
    if (sig) throw new InterruptedError(sig, { cause: err });
    throw err;
  } finally {
    interrupt.dispose();
  }
}
