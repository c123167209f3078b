// Runs one command line and returns the exit code; every error is reported here, in one place.
import { UsageError } from "../errors.js";
import { scanArgs } from "./argv-scan.js";
import { COMPLETION_FLAG } from "./completion-scripts.js";
import { EXIT_USAGE, describeError } from "./error-report.js";
import { buildParser } from "./parser.js";
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
    const { unknown, missingValue } = scanArgs(args);
    if (unknown !== undefined) throw new UsageError(`unknown option ${unknown}`);
    // yargs would take the flag as given with no value (undefined, or "" for a file name) and go on.
    if (missingValue !== undefined) throw new UsageError(`${missingValue} needs a value`);
    await buildParser(args).parseAsync();
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
