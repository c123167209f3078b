// Start-up cost of plugins: runs the built CLI (`--version` and `transports`) N times with no user
// plugins and with 20, and prints medians and ratios. Plugins are declared from their manifests
// only, so 20 plugins should cost a few sync file reads, not 20 imports.
// Usage: npm run build && node --import tsx scripts/bench-startup.ts [RUNS]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const PLUGINS = 20;
const runs = Number(process.argv[2] ?? 30);
const main = fileURLToPath(new URL("../dist/src/cli/main.cjs", import.meta.url));
if (!existsSync(main)) {
  console.error(`bench-startup: ${main} is missing; run "npm run build" first`);
  process.exit(1);
}

/** A temp XDG_CONFIG_HOME holding `count` throwaway plugins whose modules throw if imported. */
async function makeConfigHome(count: number): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), "imgcopy-bench-"));
  for (let i = 0; i < count; i++) {
    const dir = join(home, "imgcopy", "plugins", `bench-plugin-${i}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "index.js"), `throw new Error("bench plugin ${i} was imported");\n`);
    const transports = [{ name: `bench${i}`, module: "./index.js", description: `throwaway transport ${i}` }];
    await writeFile(join(dir, "plugin.json"), JSON.stringify({ name: `bench-plugin-${i}`, version: "1.0.0", imgcopyApi: "^1.0.0", transports }));
  }
  return home;
}

/** One run's wall time (ms) of the CLI with `args`. */
function timeOnce(args: string[], configHome: string): number {
  const { IMGCOPY_PLUGINS: _ignored, ...env } = process.env;
  const start = performance.now();
  const r = spawnSync(process.execPath, [main, ...args], { env: { ...env, XDG_CONFIG_HOME: configHome }, encoding: "utf8" });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`imgcopy ${args.join(" ")} failed: ${r.stderr.trim()}`);
  return ms;
}

/** Medians for both config homes; runs alternate between them so that load drift hits both alike. */
function medians(args: string[], homes: [string, string]): [number, number] {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < runs; i++) {
    times[0].push(timeOnce(args, homes[0]));
    times[1].push(timeOnce(args, homes[1]));
  }
  const median = (t: number[]): number => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]!;
  return [median(times[0]), median(times[1])];
}

const none = await makeConfigHome(0);
const many = await makeConfigHome(PLUGINS);
try {
  console.log(`imgcopy start-up, median of ${runs} runs (node ${process.version})`);
  for (const args of [["--version"], ["transports"]]) {
    const [a, b] = medians(args, [none, many]);
    console.log(
      `  imgcopy ${args.join(" ").padEnd(10)} 0 plugins: ${a.toFixed(1)} ms   ${PLUGINS} plugins: ${b.toFixed(1)} ms   ratio ${(b / a).toFixed(2)}`,
    );
  }
} finally {
  await rm(none, { recursive: true, force: true });
  await rm(many, { recursive: true, force: true });
}
