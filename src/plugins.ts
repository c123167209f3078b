// Plugins: find plugin.json manifests, check their API range, and declare their transports in a
// registry. Nothing is imported here: a transport's module is imported when a reference names it,
// so start-up does not grow with the number of plugins.
import { realpathSync } from "node:fs";
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { PluginError } from "./errors.js";
import { defaultRegistry, type TransportRegistry } from "./registry.js";
import type { ImageReference, ImageTransport } from "./types.js";
import { discoverPlugins, type PluginSource } from "./plugins/plugin-discovery.js";
import {
  PluginRefusal,
  checkApiCompatibility,
  declaredTransportNames,
  pluginLabel,
  readPluginManifest,
  type PluginManifest,
} from "./plugins/plugin-manifest.js";
import { importTransport } from "./plugins/transport-module.js";
import apiVersion from "./api-version.cjs";

/** The plugin API version this host provides (src/api-version.cts). */
export const IMGCOPY_API_VERSION: string = apiVersion.IMGCOPY_API_VERSION;
export { PluginRefusal, checkApiCompatibility, readPluginManifest } from "./plugins/plugin-manifest.js";
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
  /** One-line warnings: a refused plugin ("plugin NAME (PATH) ignored: REASON"), a folder without plugin.json. */
  warn?: (message: string) => void;
  /** Throw the first refusal (a PluginRefusal) instead of skipping the plugin with a warning. */
  strict?: boolean;
}

export interface LoadedPlugin extends PluginManifest {
  source: PluginSource;
}

/** A plugin that was skipped: its plugin.json is malformed, its API range excludes this host, or a name it declares is taken. */
export interface RefusedPlugin {
  /** The manifest's name, or its folder's name when the manifest could not be read. */
  name: string;
  version: string | undefined;
  manifestPath: string;
  source: PluginSource;
  /** One line, without the plugin's name and path. */
  reason: string;
  /** The transports its plugin.json lists (those not provided by another plugin fail with `reason`). */
  transports: string[];
}

// Manifests already declared in a registry, by real path: loading twice (the library's lazy load
// after an explicit one, or one plugin named by --plugin and IMGCOPY_PLUGINS) is harmless.
const declaredManifests = new WeakMap<TransportRegistry, Set<string>>();
const refusedByRegistry = new WeakMap<TransportRegistry, RefusedPlugin[]>();

/**
 * Reads every plugin manifest (bundled, `paths`, IMGCOPY_PLUGINS, the user's folder, in that order)
 * and declares their transports in the registry. A malformed, incompatible or conflicting plugin is
 * skipped with one warning and remembered (see refusedPlugins), so one bad plugin does not stop the
 * others; with `strict` it is thrown instead. Synchronous and import-free. Returns the plugins declared
 * by this call.
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
  let refused = refusedByRegistry.get(registry);
  if (!refused) refusedByRegistry.set(registry, (refused = []));
  const loaded: LoadedPlugin[] = [];
  for (const { manifestPath, source } of locations) {
    const key = realPath(manifestPath);
    if (seen.has(key)) continue;
    let manifest: PluginManifest | undefined;
    try {
      manifest = readPluginManifest(manifestPath);
      checkApiCompatibility(manifest);
      declarePlugin(registry, manifest);
    } catch (err) {
      if (options.strict || !(err instanceof PluginRefusal)) throw err;
      const entry = refusal(err, manifest, source);
      refused.push(entry);
      seen.add(key);
      options.warn?.(`plugin ${refusedLabel(entry)} (${entry.manifestPath}) ignored: ${entry.reason}`);
      continue;
    }
    seen.add(key);
    loaded.push({ ...manifest, source });
  }
  return loaded;
}

/** The plugins loadPlugins skipped for `registry`, in load order. */
export function refusedPlugins(registry: TransportRegistry = defaultRegistry): readonly RefusedPlugin[] {
  return refusedByRegistry.get(registry) ?? [];
}

/**
 * The error for naming transport `name` when the registry lacks it but a refused plugin declared it
 * (so the user learns why, not just "unknown transport"); undefined otherwise.
 */
export function refusedTransportError(registry: TransportRegistry, name: string): PluginError | undefined {
  if (registry.has(name)) return undefined;
  const entry = refusedPlugins(registry).find((p) => p.transports.includes(name));
  if (!entry) return undefined;
  return new PluginError(
    `transport "${name}" is not available: plugin ${refusedLabel(entry)} (${entry.manifestPath}) was ignored: ${entry.reason}`,
  );
}

/** registry.lookup(name), explaining a transport that only a refused plugin declared. */
export async function lookupTransport(registry: TransportRegistry, name: string): Promise<ImageTransport> {
  const refused = refusedTransportError(registry, name);
  if (refused) throw refused;
  return registry.lookup(name);
}

/** registry.parseReference(text), explaining a transport that only a refused plugin declared. */
export async function parseReferenceIn(registry: TransportRegistry, text: string): Promise<ImageReference> {
  const colon = text.indexOf(":");
  const refused = colon > 0 ? refusedTransportError(registry, text.slice(0, colon)) : undefined;
  if (refused) throw refused;
  return registry.parseReference(text);
}

function refusal(err: PluginRefusal, manifest: PluginManifest | undefined, source: PluginSource): RefusedPlugin {
  const path = err.manifestPath;
  const folder = basename(path) === "plugin.json" ? basename(dirname(path)) : basename(path).replace(/\.json$/, "");
  return {
    name: manifest?.name ?? folder,
    version: manifest?.version,
    manifestPath: path,
    source,
    reason: err.reason,
    transports: manifest ? manifest.transports.map((t) => t.name) : declaredTransportNames(path),
  };
}

function refusedLabel(p: RefusedPlugin): string {
  return p.version === undefined ? p.name : `${p.name}@${p.version}`;
}

/** Declares every transport of `manifest`, or none of them (a PluginRefusal) when one name is already taken. */
export function declarePlugin(registry: TransportRegistry, manifest: PluginManifest): void {
  const names = new Set<string>();
  const refuse = (reason: string): PluginRefusal => new PluginRefusal(`${pluginLabel(manifest)} ${reason}`, reason, manifest.manifestPath);
  for (const decl of manifest.transports) {
    if (names.has(decl.name)) throw refuse(`declares transport "${decl.name}" twice`);
    names.add(decl.name);
    if (registry.has(decl.name)) {
      const other = registry.list().find((e) => e.name === decl.name)?.origin;
      const by = other
        ? `plugin ${other.plugin}@${other.version}${other.manifestPath ? ` (${other.manifestPath})` : ""}`
        : "a transport registered directly";
      throw refuse(`declares transport "${decl.name}", which ${by} already declares; remove one of the two plugins`);
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
