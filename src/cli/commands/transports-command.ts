// `imgcopy transports`: every transport the plugins declare, read from their manifests alone
// (no transport module is imported, so a broken one is still listed).
import type { Argv, CommandModule } from "yargs";
import { defaultRegistry } from "../../registry.js";
import { loadCliPlugins, type GlobalArgs } from "../global-options.js";
import { writeJson, writeStdout } from "../stdout.js";
import { formatTable } from "../text-table.js";

interface TransportsArgs extends GlobalArgs {
  json: boolean;
}

export const transportsCommand: CommandModule<GlobalArgs, TransportsArgs> = {
  command: "transports",
  describe: "list the transports, with the plugin that provides each",
  builder: (y) =>
    y.option("json", { type: "boolean", default: false, describe: "print JSON" }) as unknown as Argv<TransportsArgs>, // yargs infers kebab and camel keys both
  handler: async (args) => {
    await loadCliPlugins(args);
    const entries = defaultRegistry.list().map((e) => ({
      name: e.name,
      plugin: e.origin?.plugin ?? "",
      version: e.origin?.version ?? "",
      description: e.description,
      manifest: e.origin?.manifestPath ?? "",
    }));
    if (args.json) {
      await writeJson(entries);
      return;
    }
    const rows = entries.map((e) => [e.name, e.plugin || "-", e.version || "-", e.description]);
    await writeStdout(formatTable(["TRANSPORT", "PLUGIN", "VERSION", "DESCRIPTION"], rows));
  },
};
