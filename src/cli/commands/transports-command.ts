// `imgcopy transports`: every transport the plugins declare, read from their manifests alone (no
// transport module is imported, so a broken one is still listed), then the plugins that were refused.
import type { Argv, CommandModule, Options } from "yargs";
import { defaultRegistry } from "../../registry.js";
import { loadCliPlugins, type GlobalArgs } from "../global-options.js";
import { writeJson, writeStdout } from "../stdout.js";
import { formatTable } from "../text-table.js";

interface TransportsArgs extends GlobalArgs {
  json: boolean;
}

/** One row of `transports --json`: a usable transport ("ok"), or one a refused plugin declared ("refused", with the reason). */
export interface ListedTransport {
  /** "" for a refused plugin whose plugin.json names no transport that could be read. */
  name: string;
  plugin: string;
  version: string;
  description: string;
  manifest: string;
  status: "ok" | "refused";
  reason?: string;
}

export const TRANSPORTS_OPTIONS = {
  json: { type: "boolean", default: false, describe: "print JSON" },
} as const satisfies Record<string, Options>;

export const transportsCommand: CommandModule<GlobalArgs, TransportsArgs> = {
  command: "transports",
  describe: "list the transports, with the plugin that provides each, and the plugins that were refused",
  builder: (y) => y.options(TRANSPORTS_OPTIONS) as unknown as Argv<TransportsArgs>, // yargs infers kebab and camel keys both
  handler: async (args) => {
    await loadCliPlugins(args);
    const { refusedPlugins } = await import("../../plugins.js");
    const entries: ListedTransport[] = defaultRegistry.list().map((e) => ({
      name: e.name,
      plugin: e.origin?.plugin ?? "",
      version: e.origin?.version ?? "",
      description: e.description,
      manifest: e.origin?.manifestPath ?? "",
      status: "ok",
    }));
    const refused = refusedPlugins(defaultRegistry);
    for (const p of refused) {
      for (const name of p.transports.length > 0 ? p.transports : [""]) {
        entries.push({ name, plugin: p.name, version: p.version ?? "", description: "", manifest: p.manifestPath, status: "refused", reason: p.reason });
      }
    }
    if (args.json) {
      await writeJson(entries);
      return;
    }
    const ok = entries.filter((e) => e.status === "ok").map((e) => [e.name, e.plugin || "-", e.version || "-", e.description]);
    let text = formatTable(["TRANSPORT", "PLUGIN", "VERSION", "DESCRIPTION"], ok);
    if (refused.length > 0) {
      const rows = refused.map((p) => [p.name, p.version ?? "-", p.transports.join(",") || "-", p.manifestPath, p.reason]);
      text += `\nREFUSED PLUGINS (ignored)\n${formatTable(["PLUGIN", "VERSION", "TRANSPORTS", "MANIFEST", "REASON"], rows)}`;
    }
    await writeStdout(text);
  },
};
