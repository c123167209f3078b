// Where plugin.json files are found, in order: the bundled ones, --plugin PATH, IMGCOPY_PLUGINS,
// then the user's folder ($XDG_CONFIG_HOME/imgcopy/plugins/*/plugin.json). Sync stats only.
import { readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { PluginError } from "../errors.js";

export type PluginSource = "bundled" | "option" | "env" | "user";

export interface PluginLocation {
  manifestPath: string;
  source: PluginSource;
}

export interface DiscoveryOptions {
  /** Absolute paths of the host's own plugin.json files. */
  bundled: string[];
  /** --plugin values: a folder holding plugin.json, or the file itself. */
  paths?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Look at IMGCOPY_PLUGINS and the user's folder (default true). */
  user?: boolean;
  warn?: (message: string) => void;
}

/**
 * Every plugin.json to read, in load order. A --plugin path that does not exist is a PluginError; an
 * IMGCOPY_PLUGINS entry that does not exist is skipped with a warning.
 */
export function discoverPlugins(opts: DiscoveryOptions): PluginLocation[] {
  const env = opts.env ?? process.env;
  const found: PluginLocation[] = opts.bundled.map((p) => ({ manifestPath: p, source: "bundled" }));
  for (const p of opts.paths ?? []) {
    found.push({ manifestPath: manifestPathFor(p, "--plugin"), source: "option" });
  }
  if (opts.user === false) return found;
  for (const p of (env.IMGCOPY_PLUGINS ?? "").split(":")) {
    if (p.trim() === "") continue;
    try {
      found.push({ manifestPath: manifestPathFor(p, "IMGCOPY_PLUGINS entry"), source: "env" });
    } catch (err) {
      // A stale entry in the environment must not stop every command; a --plugin typo still does.
      opts.warn?.(`${(err as Error).message}; ignored`);
    }
  }
  for (const p of userPluginManifests(env, opts.warn)) found.push({ manifestPath: p, source: "user" });
  return found;
}

/** `path` if it is a file, `path/plugin.json` if it is a folder. */
export function manifestPathFor(path: string, what: string): string {
  const abs = resolve(path);
  try {
    return statSync(abs).isDirectory() ? join(abs, "plugin.json") : abs;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file or directory" : (code ?? String(err));
    throw new PluginError(`${what} ${abs}: ${why} (expected a plugin folder or its plugin.json)`, { cause: err });
  }
}

/** The user's plugin folder: $XDG_CONFIG_HOME/imgcopy/plugins (XDG_CONFIG_HOME default ~/.config). */
export function userPluginFolder(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec says a relative value is invalid and must be ignored.
  const config = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".config");
  return join(config, "imgcopy", "plugins");
}

function userPluginManifests(env: NodeJS.ProcessEnv, warn?: (m: string) => void): string[] {
  const folder = userPluginFolder(env);
  let names: string[];
  try {
    names = readdirSync(folder).sort();
  } catch {
    return []; // no user plugin folder: nothing to load
  }
  const out: string[] = [];
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const dir = join(folder, name);
    if (!isDirectory(dir)) continue;
    const manifest = join(dir, "plugin.json");
    if (isFile(manifest)) out.push(manifest);
    else warn?.(`plugin folder ${dir} has no plugin.json; ignored`);
  }
  return out;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
