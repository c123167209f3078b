// Shared by every test: running the real tools (buildah, skopeo, umoci, podman), temp dirs.
// A missing tool fails the test with a message saying how to install it; nothing is skipped.
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

const INSTALL_HINT = "apt-get install -y buildah skopeo umoci podman docker-registry uidmap apache2-utils openssl (.ci/run does this)";

const found = new Map<string, boolean>();

/** Throws a clear error unless `tool` is on PATH. */
export function requireTool(tool: string): void {
  if (!found.has(tool)) found.set(tool, spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0);
  if (!found.get(tool)) throw new Error(`this test needs "${tool}", which is not installed: ${INSTALL_HINT}`);
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a tool; rejects with its stderr on a non-zero exit. */
export async function run(tool: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<RunResult> {
  requireTool(tool);
  try {
    const { stdout, stderr } = await execFileP(tool, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      maxBuffer: 256 * 1024 * 1024,
      encoding: "utf8",
    });
    return { stdout, stderr };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${tool} ${args.join(" ")} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(prefix = "imgcopy-test-"): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
