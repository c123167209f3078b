// Importing a plugin's transport module on first use and picking the transport it declared.
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { PluginError } from "../errors.js";
import type { ImageTransport } from "../types.js";
import type { PluginManifest, PluginTransportDeclaration } from "./plugin-manifest.js";

/**
 * Imports `decl.modulePath` and returns the transport named `decl.name` from its default export
 * (an ImageTransport or an array of them). Every failure is a PluginError naming plugin and module.
 */
export async function importTransport(plugin: PluginManifest, decl: PluginTransportDeclaration): Promise<ImageTransport> {
  const who = `plugin ${plugin.name}@${plugin.version}: module ${decl.modulePath} (transport "${decl.name}")`;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(decl.modulePath).href)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Under tsx a ".js" path may exist only as ".ts", so check existence only once the import failed.
    if (e?.code === "ERR_MODULE_NOT_FOUND" && !existsSync(decl.modulePath) && !existsSync(decl.modulePath.replace(/\.js$/, ".ts"))) {
      throw new PluginError(`${who} not found (declared in ${plugin.manifestPath})`, { cause: err });
    }
    const why = err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
    throw new PluginError(`${who} failed to import: ${why}`, { cause: err });
  }
  const exported = mod.default;
  if (exported === undefined) {
    throw new PluginError(`${who} has no default export; it must export an ImageTransport or an array of them`);
  }
  const candidates = Array.isArray(exported) ? (exported as unknown[]) : [exported];
  const names: string[] = [];
  for (const c of candidates) {
    if (!isTransport(c)) {
      throw new PluginError(`${who}: its default export is not an ImageTransport (an object with a string "name" and a "parseReference" function)`);
    }
    if (c.name === decl.name) return c;
    names.push(c.name);
  }
  throw new PluginError(`${who}: its default export has no transport named "${decl.name}" (it has: ${names.join(", ") || "none"})`);
}

function isTransport(v: unknown): v is ImageTransport {
  if (typeof v !== "object" || v === null) return false;
  const t = v as Partial<ImageTransport>;
  return typeof t.name === "string" && typeof t.parseReference === "function" && (t.list === undefined || typeof t.list === "function");
}
