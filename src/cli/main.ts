#!/usr/bin/env node
// The imgcopy command. Heavy modules (yargs, the copy engine, transports) are imported only when
// needed: `imgcopy --version` answers before any of them loads.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  const { versionText } = await import("./package-version.js");
  process.stdout.write(`${versionText()}\n`);
} else {
  const { runCli } = await import("./run-cli.js");
  process.exitCode = await runCli(args);
}
