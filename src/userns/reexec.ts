// Runs this program again inside the user's namespace (see entry-plan.ts) and reports how it ended:
// stdio inherited, SIGINT/SIGTERM/SIGHUP forwarded once, the child's exit code or 128 + its signal.
import { spawn } from "node:child_process";
import { constants, userInfo } from "node:os";
import { IOError } from "../errors.js";
import { planNamespaceEntry, type EntryPlan } from "./entry-plan.js";
import { namespaceChildEnv } from "./process-state.js";

export interface ReexecOptions {
  /** What needs the namespace, for error messages. */
  what: string;
  /** The command line to run inside; default: this process's own (node, its flags, the script, the arguments). */
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  subuidFile?: string;
  subgidFile?: string;
  /** Called with the chosen plan before it runs (the CLI prints it with --debug). */
  onPlan?: (plan: EntryPlan) => void;
}

const FORWARDED: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function userName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined; // no passwd entry: ranges are looked up by uid
  }
}

/**
 * Runs `argv` (default: this program, again) inside the user's namespace and resolves with its exit
 * code. The caller must not hold a store's lock: the child takes its own, and fcntl locks of the
 * parent would block it. Rejects with a one-line UnsupportedError when the namespace cannot be entered.
 */
export async function runInUserNamespace(options: ReexecOptions): Promise<number> {
  const env = options.env ?? process.env;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const target = options.argv ?? [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const plan = await planNamespaceEntry({
    uid, gid, userName: userName(), what: options.what, target, path: env.PATH ?? "/usr/bin:/bin",
    ...(options.subuidFile !== undefined ? { subuidFile: options.subuidFile } : {}),
    ...(options.subgidFile !== undefined ? { subgidFile: options.subgidFile } : {}),
  });
  options.onPlan?.(plan);
  // Its own session: a terminal's Ctrl-C reaches only us, and we forward it once (twice would make
  // the child exit without cleaning up). Writing to and reading from the terminal still work.
  const child = spawn(plan.command, plan.args, { stdio: "inherit", env: namespaceChildEnv(env, uid, gid), detached: true });
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once("error", (err) => reject(new IOError(`cannot run ${plan.command} to enter the user namespace: ${err.message}`, { cause: err })));
      child.once("exit", (code, signal) => {
        if (code !== null) resolve(code);
        else resolve(128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
    });
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}
