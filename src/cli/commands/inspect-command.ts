// `imgcopy inspect REF [--raw] [--config]`: skopeo inspect's JSON, the manifest or the config.
import { loadCliPlugins, parseCliReference, systemContextFrom, type GlobalArgs } from "../global-options.js";
import { interruptible } from "../interrupt.js";
import { enterUserNamespaceIfNeeded } from "../user-namespace-gate.js";
import { writeStdout } from "../stdout.js";
import { sideArgs, withRegistryContext, type RetryArgs } from "./registry-options.js";

export interface InspectArgs extends GlobalArgs, RetryArgs {
  ref: string;
  raw: boolean;
  config: boolean;
  noTags?: boolean;
  tags?: boolean;
}

/** Runs `imgcopy inspect` with its parsed arguments. */
export async function runInspect(args: InspectArgs): Promise<void> {
  const ctx = withRegistryContext(systemContextFrom(args), sideArgs(args as unknown as Record<string, unknown>, ""), args, "");
  await loadCliPlugins(args);
  const ref = await parseCliReference(args.ref);
  await enterUserNamespaceIfNeeded([ref.userNamespace?.bind(ref, ctx)], args.debug);
  const { inspectImage, renderInspectResult } = await import("../../inspect.js");
  // Rendered as skopeo prints it (4-space indent, Go's escaping), so outputs diff cleanly.
  const result = await interruptible((signal) => inspectImage(ref, { ctx: { ...ctx, signal }, raw: args.raw, config: args.config, tags: !(args.noTags === true || args.tags === false) }));
  await writeStdout(renderInspectResult(result));
}
