// Plugins: find plugin.json manifests, check their API range, and declare their transports in a
// registry. Nothing is imported here: a transport's module is imported when a reference names it,
// so start-up does not grow with the number of plugins.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PluginError } from "./errors.js";
import { defaultRegistry, type TransportRegistry } from "./registry.js";
import { discoverPlugins, type PluginSource } from "./plugins/plugin-discovery.js";
import { checkApiCompatibility, readPluginManifest, type PluginManifest } from "./plugins/plugin-manifest.js";
import { importTransport } from "./plugins/transport-module.js";

export { IMGCOPY_API_VERSION } from "./api-version.js";
export { checkApiCompatibility, readPluginManifest } from "./plugins/plugin-manifest.js";
export type { PluginManifest, PluginTransportDeclaration } from "./plugins/plugin-manifest.js";
export { discoverPlugins, userPluginFolder, type PluginLocation, type PluginSource } from "./plugins/plugin-discovery.js";

/**
 * The host's own manifests, found relative to this file: src/ under tsx, dist/src/ once built (the
 * build copies both manifests into dist/, and their module paths are relative ".js" paths).
 */
export function bundledManifestPaths(): string[] {
  return [new URL("../plugin.json", import.meta.url), new URL("../transports/plugin.json", import.meta.url)].map((u) =>
    fileURLToPath(u),
  );
}

export interface LoadPluginsOptions {
  /** Default: the process-wide registry. */
  registry?: TransportRegistry;
  /** Extra plugins (the CLI's --plugin): a folder holding plugin.json, or the file. */
  paths?: readonly string[];
  /** Environment for IMGCOPY_PLUGINS, XDG_CONFIG_HOME and HOME; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Load the host's own manifests (default true). */
  bundled?: boolean;
  /** Load IMGCOPY_PLUGINS and the user's plugin folder (default true). */
  user?: boolean;
  warn?: (message: string) => void;
}

export interface LoadedPlugin extends PluginManifest {
  source: PluginSource;
}

// Manifests already declared in a registry, by real path: loading twice (the library's lazy load
// after an explicit one, or one plugin named by --plugin and IMGCOPY_PLUGINS) is harmless.
const declaredManifests = new WeakMap<TransportRegistry, Set<string>>();

/**
 * Reads every plugin manifest (bundled, `paths`, IMGCOPY_PLUGINS, the user's folder, in that order),
 * refuses incompatible or conflicting ones with a PluginError, and declares their transports in the
 * registry. Synchronous and import-free. Returns the plugins declared by this call.
 */
export function loadPlugins(options: LoadPluginsOptions = {}): LoadedPlugin[] {
  const registry = options.registry ?? defaultRegistry;
  const env = options.env ?? process.env;
  const locations = discoverPlugins({
    bundled: options.bundled === false ? [] : bundledManifestPaths(),
    paths: options.paths ?? [],
    env,
    user: options.user !== false,
    ...(options.warn ? { warn: options.warn } : {}),
  });
  let seen = declaredManifests.get(registry);
  if (!seen) declaredManifests.set(registry, (seen = new Set()));
  const loaded: LoadedPlugin[] = [];
  for (const { manifestPath, source } of locations) {
    const key = realPath(manifestPath);
    if (seen.has(key)) continue;
    const manifest = readPluginManifest(manifestPath);
    checkApiCompatibility(manifest);
    declarePlugin(registry, manifest);
    seen.add(key);
    loaded.push({ ...manifest, source });
  }
  return loaded;
}

/** Declares every transport of `manifest`, or none of them when one name is already taken. */
export function declarePlugin(registry: TransportRegistry, manifest: PluginManifest): void {
  const names = new Set<string>();
  for (const decl of manifest.transports) {
    const who = `plugin ${manifest.name}@${manifest.version} (${manifest.manifestPath})`;
    if (names.has(decl.name)) throw new PluginError(`${who} declares transport "${decl.name}" twice`);
    names.add(decl.name);
    if (registry.has(decl.name)) {
      const other = registry.list().find((e) => e.name === decl.name)?.origin;
      const by = other
        ? `plugin ${other.plugin}@${other.version}${other.manifestPath ? ` (${other.manifestPath})` : ""}`
        : "a transport registered directly";
      throw new PluginError(`${who} declares transport "${decl.name}", which ${by} already declares; remove one of the two plugins`);
    }
  }
  for (const decl of manifest.transports) {
    registry.declare(decl.name, () => importTransport(manifest, decl), {
      description: decl.description,
      origin: { plugin: manifest.name, version: manifest.version, manifestPath: manifest.manifestPath },
    });
  }
}

let defaultPluginsLoaded = false;

/** Loads the default plugin set into the default registry once (the library's lazy path). */
export function ensureDefaultPlugins(): void {
  if (defaultPluginsLoaded) return;
  loadPlugins({ registry: defaultRegistry });
  defaultPluginsLoaded = true;
}

function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
