// `imgcopy inspect REF [--raw] [--config]`: skopeo inspect's JSON, the manifest or the config.
import type { Argv, CommandModule } from "yargs";
import { defaultRegistry } from "../../registry.js";
import { loadCliPlugins, systemContextFrom, type GlobalArgs } from "../global-options.js";
import { writeStdout } from "../stdout.js";

interface InspectArgs extends GlobalArgs {
  ref: string;
  raw: boolean;
  config: boolean;
}

export const inspectCommand: CommandModule<GlobalArgs, InspectArgs> = {
  command: "inspect <ref>",
  describe: "print what an image is, as JSON (skopeo inspect)",
  builder: (y) =>
    y
      .positional("ref", { type: "string", demandOption: true, describe: "image, TRANSPORT:DETAILS" })
      .option("raw", { type: "boolean", default: false, describe: "print the manifest (or with --config, the config) as stored" })
      .option("config", { type: "boolean", default: false, describe: "print the image's config" }) as unknown as Argv<InspectArgs>, // yargs infers kebab and camel keys both
  handler: async (args) => {
    const ctx = systemContextFrom(args);
    await loadCliPlugins(args);
    const ref = await defaultRegistry.parseReference(args.ref);
    const { inspectImage, renderInspectResult } = await import("../../inspect.js");
    // Rendered as skopeo prints it (4-space indent, Go's escaping), so outputs diff cleanly.
    await writeStdout(renderInspectResult(await inspectImage(ref, { ctx, raw: args.raw, config: args.config })));
  },
};
