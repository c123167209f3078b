// Options every command takes (store location, plugins, output), and what they turn into: a
// SystemContext for transports and the plugin set in the registry.
import type { Argv } from "yargs";
import { UsageError } from "../errors.js";
import { defaultRegistry } from "../registry.js";
import type { SystemContext } from "../types.js";

export type ProgressMode = "auto" | "bars" | "lines" | "json" | "none";
export const PROGRESS_MODES: readonly ProgressMode[] = ["auto", "bars", "lines", "json", "none"];

export interface GlobalArgs {
  root?: string;
  runroot?: string;
  storageDriver?: string;
  lockTimeout?: number;
  plugin?: string[];
  quiet: boolean;
  debug: boolean;
  progress: ProgressMode;
}

export function addGlobalOptions(y: Argv): Argv<GlobalArgs> {
  return y
    .group(["root", "runroot", "storage-driver", "lock-timeout", "plugin", "quiet", "debug", "progress"], "Global options:")
    .option("root", { type: "string", describe: "containers/storage graph root (default: storage.conf)", global: true })
    .option("runroot", { type: "string", describe: "containers/storage run root (default: storage.conf)", global: true })
    .option("storage-driver", { type: "string", describe: "containers/storage driver (vfs, overlay)", global: true })
    .option("lock-timeout", { type: "number", describe: "seconds to wait for a busy store's lock", global: true })
    .option("plugin", { type: "string", array: true, describe: "load a plugin (its folder or plugin.json); repeatable", global: true })
    .option("quiet", { alias: "q", type: "boolean", default: false, describe: "print no progress", global: true })
    .option("debug", { type: "boolean", default: false, describe: "print stacks and causes on errors", global: true })
    .option("progress", {
      choices: PROGRESS_MODES,
      default: "auto" as ProgressMode,
      describe: "progress on stderr: bars on a terminal, lines otherwise (auto), JSON lines, or none",
      global: true,
    }) as unknown as Argv<GlobalArgs>; // yargs' inferred type spells each option twice (kebab and camel)
}

/** Prints a one-line warning on stderr. */
export function warn(message: string): void {
  process.stderr.write(`imgcopy: warning: ${message}\n`);
}

/** Reads the plugin manifests (no transport module is imported) into the default registry. */
export async function loadCliPlugins(args: GlobalArgs): Promise<void> {
  // Imported here, not above, so that --version and --help do not load semver.
  const { loadPlugins } = await import("../plugins.js");
  loadPlugins({ registry: defaultRegistry, paths: args.plugin ?? [], env: process.env, warn });
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
