// Runs one command line and returns the exit code; every error is reported here, in one place.
import { UsageError } from "../errors.js";
import { scanArgs } from "./argv-scan.js";
import { COMPLETION_FLAG } from "./command-table.js";
import { EXIT_USAGE, describeError } from "./error-report.js";
import { quickArgs } from "./quick-args.js";
import { runCommand } from "./run-command.js";
import { guardStdout, writeStdout } from "./stdout.js";
import { ReexecutedCommand } from "./user-namespace-gate.js";

export async function runCli(args: readonly string[]): Promise<number> {
  guardStdout();
  if (args[0] === COMPLETION_FLAG) return printCompletions(args.slice(1));
  try {
    if (args.length === 0) {
      // Like skopeo: no arguments at all is a usage error that shows the whole usage.
      process.stderr.write(`${await helpText()}\n`);
      return EXIT_USAGE;
    }
    // Before yargs, which lets an unknown flag swallow the next argument and then complains about that.
    const scanned = scanArgs(args);
    if (scanned.unknown !== undefined) throw new UsageError(`unknown option ${scanned.unknown}`);
    // yargs would take the flag as given with no value (undefined, or "" for a file name) and go on.
    if (scanned.missingValue !== undefined) throw new UsageError(`${scanned.missingValue} needs a value`);
    // A plain command line skips yargs (most of start-up); help, usage errors and odd spellings go through it.
    const quick = quickArgs(args, scanned);
    if (quick) await runCommand(quick.verb, quick.args);
    else await (await import("./parser.js")).buildParser(args).parseAsync();
    return 0;
  } catch (err) {
    if (err instanceof ReexecutedCommand) return err.exitCode; // the child has reported everything itself
    const report = describeError(err, args.includes("--debug"));
    process.stderr.write(report.lines.map((l) => `${l}\n`).join(""));
    return report.exitCode;
  }
}

/** The top-level help, as `imgcopy --help` prints it. */
async function helpText(): Promise<string> {
  const { buildParser } = await import("./parser.js");
  return new Promise((resolve, reject) => {
    // With a callback yargs hands the output over instead of printing it.
    void buildParser(["--help"]).parse(["--help"], {}, (err, _argv, output) => (err ? reject(err) : resolve(output)));
  });
}

/** `imgcopy --get-yargs-completions imgcopy WORD... CURRENT`: one candidate per line (see completion-scripts.ts). */
async function printCompletions(words: readonly string[]): Promise<number> {
  const [{ completionCandidates }, { loadPlugins }, { TransportRegistry }] = await Promise.all([
    import("./completion-candidates.js"),
    import("../plugins.js"),
    import("../registry.js"),
  ]);
  const transportNames = async (paths: string[], purpose: "reference" | "list"): Promise<string[]> => {
    const registry = new TransportRegistry();
    try {
      loadPlugins({ registry, paths, env: process.env });
    } catch {
      // a --plugin path that does not exist (yet): offer the others
      loadPlugins({ registry, env: process.env });
    }
    if (purpose === "reference") return registry.names();
    // Only a transport's module says whether it can list: import them (completion only, never a copy).
    const canList = await Promise.all(
      registry.names().map(async (name) => {
        const transport = await registry.lookup(name).catch(() => undefined);
        return typeof transport?.list === "function" ? name : undefined;
      }),
    );
    return canList.filter((n): n is string => n !== undefined);
  };
  const candidates = await completionCandidates(words.slice(1), transportNames);
  await writeStdout(candidates.map((c) => `${c}\n`).join(""));
  return 0;
}
