// Runs one command line and returns the exit code; every error is reported here, in one place.
import { describeError } from "./error-report.js";
import { buildParser } from "./parser.js";

export async function runCli(args: readonly string[]): Promise<number> {
  try {
    await buildParser(args).parseAsync();
    return 0;
  } catch (err) {
    const report = describeError(err, args.includes("--debug"));
    process.stderr.write(report.lines.map((l) => `${l}\n`).join(""));
    return report.exitCode;
  }
}
