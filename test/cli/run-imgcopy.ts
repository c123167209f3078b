// Runs the imgcopy command (the source tree, through tsx) as a child process, with a clean
// environment: no user plugin folder, no IMGCOPY_PLUGINS, unless the test sets them.
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const MAIN = fileURLToPath(new URL("../../src/cli/main.cts", import.meta.url));
// By URL, so that the child finds tsx whatever its working directory.
export const TSX = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;
export const fixturePlugin = (name: string): string => fileURLToPath(new URL(`../fixtures/plugins/${name}`, import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Modules to --import before the command runs (e.g. a loader hook). */
  preload?: string[];
  /** Node/V8 flags to start the command with (e.g. the bin's shebang flags). */
  nodeFlags?: string[];
  /** An open file descriptor to take stdout (binary output), instead of collecting it as text. */
  stdoutFd?: number;
  /** Called with each chunk of stderr (e.g. to send a signal once a copy is under way). */
  onStderr?: (text: string, child: ChildProcess) => void;
}

/** An environment with nothing of the caller's plugin settings: HOME and XDG point at `home`. */
export function cleanEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { IMGCOPY_PLUGINS: _p, XDG_CONFIG_HOME: _x, ...rest } = process.env;
  return { ...rest, HOME: home, ...extra };
}

export function imgcopy(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), "--import", TSX, ...(opts.preload ?? []).flatMap((p) => ["--import", p]), MAIN, ...args], {
      env: opts.env ?? cleanEnv("/nonexistent"),
      cwd: opts.cwd ?? fileURLToPath(new URL("../..", import.meta.url)),
      stdio: ["ignore", opts.stdoutFd ?? "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      opts.onStderr?.(d, child);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The lines a result printed on stderr. */
export function stderrLines(r: CliResult): string[] {
  return r.stderr.split("\n").filter((l) => l !== "");
}

/** Writes an executable `imgcopy` (running this source tree) into `dir`/bin, for shells to run; returns that bin folder. */
export async function installImgcopyCommand(dir: string): Promise<string> {
  const bin = join(dir, "bin");
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, "imgcopy"), `#!/bin/sh\nexec "${process.execPath}" --import "${TSX}" "${MAIN}" "$@"\n`);
  await chmod(join(bin, "imgcopy"), 0o755);
  return bin;
}
