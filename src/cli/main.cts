#!/usr/bin/env -S node --max-semi-space-size=4 --initial-old-space-size=32
// The imgcopy command (package.json "bin"). It is CommonJS on purpose: `imgcopy --version` answers
// without Node's ES module loader, whose start alone costs ~15-20 ms on Node 20 (an empty .mjs file
// vs an empty .cjs file). Everything else (yargs, the copy engine, transports) is ES modules,
// imported only when the command needs them.
// The shebang caps V8's young generation at 2 x 4 MiB (default 2 x 16): layer copies allocate many
// short-lived buffers, and smaller semi-spaces free them sooner (peak RSS of a gzip export ~150 ->
// ~120 MiB at the same speed; README "Benchmarks").
// It also starts V8's old-generation limit at 32 MiB instead of the ~12-20 MiB V8 sizes from the
// small live heap (~8 MiB): a layer copy promotes a few MiB of stream state every second, and with the
// default limit every ~150 ms of it ran a full collection (46 in a gzip export of the bench container,
// 26 with the flag; its V8 helper threads' CPU 1.4 -> 1.2 s, fewer optimized functions thrown away).
import packageVersion = require("./package-version.cjs");

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  process.stdout.write(`${packageVersion.versionText()}\n`);
} else {
  // V8 checks Node's built-in code cache against a hash of every non-default V8 flag, so the
  // shebang's flag makes each built-in module (fs/promises, stream, crypto, zlib, ...) compile from
  // source: ~15 ms of CPU on Node 20. The heap has read the flag already (V8 reads it once, when the
  // heap is set up), so putting its default back keeps the small semi-spaces and the cache both.
  // The same holds for the old-generation start: V8 reads it once, at heap set-up.
  const heapFlags = ["--max-semi-space-size", "--initial-old-space-size"].filter((f) => process.execArgv.some((a) => a.startsWith(f)));
  if (heapFlags.length > 0) {
    // Required here, not at the top: --version has no use for node:v8 (~1 ms to load).
    const { setFlagsFromString } = require("node:v8") as typeof import("node:v8");
    for (const flag of heapFlags) setFlagsFromString(`${flag}=0`);
  }
  void import("./run-cli.js").then(async ({ runCli }) => {
    process.exitCode = await runCli(args);
  });
}
