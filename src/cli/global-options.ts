// Options every command takes (store location, plugins, output), and what they turn into: a
// SystemContext for transports and the plugin set in the registry.
import type { Argv, Options } from "yargs";
import { UsageError } from "../errors.js";
import { defaultRegistry } from "../registry.js";
import type { ImageReference, SystemContext } from "../types.js";

export type ProgressMode = "auto" | "bars" | "lines" | "json" | "none";
export const PROGRESS_MODES: readonly ProgressMode[] = ["auto", "bars", "lines", "json", "none"];

export interface GlobalArgs {
  root?: string;
  runroot?: string;
  storageDriver?: string;
  lockTimeout?: number;
  plugin?: string[];
  debug: boolean;
}

/** Options every command takes (help and version are yargs' own, added by the parser). */
export const GLOBAL_OPTIONS = {
  root: { type: "string", describe: "containers/storage graph root (default: storage.conf)", global: true },
  runroot: { type: "string", describe: "containers/storage run root (default: storage.conf)", global: true },
  "storage-driver": { type: "string", describe: "containers/storage driver (vfs, overlay)", global: true },
  "lock-timeout": { type: "number", describe: "seconds to wait for a busy store's lock", global: true },
  plugin: { type: "string", array: true, describe: "load a plugin (its folder or plugin.json); repeatable", global: true },
  debug: { type: "boolean", default: false, describe: "print stacks and causes on errors", global: true },
} as const satisfies Record<string, Options>;

export function addGlobalOptions(y: Argv): Argv<GlobalArgs> {
  return y
    .group(Object.keys(GLOBAL_OPTIONS), "Global options:")
    .options(GLOBAL_OPTIONS) as unknown as Argv<GlobalArgs>; // yargs' inferred type spells each option twice (kebab and camel)
}

/** Prints a one-line warning on stderr; a message that starts with "note: " is a note, not a warning. */
export function warn(message: string): void {
  process.stderr.write(message.startsWith("note: ") ? `imgcopy: ${message}\n` : `imgcopy: warning: ${message}\n`);
}

/**
 * Reads the plugin manifests (no transport module is imported) into the default registry. A refused
 * plugin is one warning line and is skipped, so that every other command (and `transports`) still works.
 */
export async function loadCliPlugins(args: GlobalArgs): Promise<void> {
  // Imported here, not above, so that --version and --help do not load semver.
  const { loadPlugins } = await import("../plugins.js");
  loadPlugins({ registry: defaultRegistry, paths: args.plugin ?? [], env: process.env, warn });
}

/** Parses a reference given on the command line; a transport that only a refused plugin declared fails with that plugin's reason. */
export async function parseCliReference(text: string): Promise<ImageReference> {
  const { parseReferenceIn } = await import("../plugins.js");
  return parseReferenceIn(defaultRegistry, text);
}

/** The SystemContext the global options describe; commands add their own fields. */
export function systemContextFrom(args: GlobalArgs): SystemContext {
  const ctx: SystemContext = { env: process.env, warn };
  if (args.root !== undefined) ctx.storageRoot = args.root;
  if (args.runroot !== undefined) ctx.storageRunRoot = args.runroot;
  if (args.storageDriver !== undefined) ctx.storageDriver = args.storageDriver;
  if (args.lockTimeout !== undefined) ctx.lockTimeoutMs = Math.round(nonNegative(args.lockTimeout, "--lock-timeout") * 1000);
  return ctx;
}

/** A number flag's value, refused with a usage error when it is not a number >= 0. */
export function nonNegative(value: number, flag: string): number {
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${flag} needs a number >= 0`);
  return value;
}
