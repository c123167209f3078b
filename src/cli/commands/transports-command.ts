// `imgcopy transports`: every transport the plugins declare, read from their manifests alone (no
// transport module is imported, so a broken one is still listed), then the plugins that were refused.
import { defaultRegistry } from "../../registry.js";
import { loadCliPlugins, type GlobalArgs } from "../global-options.js";
import { writeJson, writeStdout } from "../stdout.js";
import { formatTable } from "../text-table.js";

export interface TransportsArgs extends GlobalArgs {
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

/** Runs `imgcopy transports` with its parsed arguments. */
export async function runTransports(args: TransportsArgs): Promise<void> {
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
}
