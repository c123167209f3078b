// `imgcopy inspect REF [--raw] [--config]`: skopeo inspect's JSON, the manifest or the config.
import type { Argv, CommandModule, Options } from "yargs";
import { loadCliPlugins, parseCliReference, systemContextFrom, type GlobalArgs } from "../global-options.js";
import { interruptible } from "../interrupt.js";
import { enterUserNamespaceIfNeeded } from "../user-namespace-gate.js";
import { writeStdout } from "../stdout.js";
import { REGISTRY_OPTIONS, sideArgs, withRegistryContext, type RetryArgs } from "./registry-options.js";

interface InspectArgs extends GlobalArgs, RetryArgs {
  ref: string;
  raw: boolean;
  config: boolean;
  noTags?: boolean;
  tags?: boolean;
}

export const INSPECT_OPTIONS = {
  raw: { type: "boolean", default: false, describe: "print the manifest (or with --config, the config) as stored" },
  config: { type: "boolean", default: false, describe: "print the image's config" },
  // skopeo's spelling: docker:// lists the repository's tags as RepoTags unless told not to; local transports have none.
  "no-tags": { alias: "n", type: "boolean", describe: "docker://: do not list the repository's tags (RepoTags stays empty)" },
  // yargs reads "--no-tags" as the negation of "tags": declared (hidden) so that strict mode accepts it.
  tags: { type: "boolean", hidden: true },
  ...REGISTRY_OPTIONS,
} as const satisfies Record<string, Options>;

export const inspectCommand: CommandModule<GlobalArgs, InspectArgs> = {
  command: "inspect <ref>",
  describe: "print what an image is, as JSON (skopeo inspect)",
  builder: (y) =>
    y
      .positional("ref", { type: "string", demandOption: true, describe: "image, TRANSPORT:DETAILS" })
      .options(INSPECT_OPTIONS) as unknown as Argv<InspectArgs>, // yargs infers kebab and camel keys both
  handler: async (args) => {
    const ctx = withRegistryContext(systemContextFrom(args), sideArgs(args as unknown as Record<string, unknown>, ""), args, "");
    await loadCliPlugins(args);
    const ref = await parseCliReference(args.ref);
    await enterUserNamespaceIfNeeded([ref.userNamespace?.bind(ref, ctx)], args.debug);
    const { inspectImage, renderInspectResult } = await import("../../inspect.js");
    // Rendered as skopeo prints it (4-space indent, Go's escaping), so outputs diff cleanly.
    const result = await interruptible((signal) => inspectImage(ref, { ctx: { ...ctx, signal }, raw: args.raw, config: args.config, tags: !(args.noTags === true || args.tags === false) }));
    await writeStdout(renderInspectResult(result));
  },
};
