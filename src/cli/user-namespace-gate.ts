// Before a command opens anything: when a transport says what it reads must be read inside the
// user's namespace (a rootless containers/storage store) and this process runs outside it, the
// same command line runs again inside (src/userns) and this process ends with the child's code.
// The host names no transport: it only asks the optional hooks of the references it parsed.
import type { UserNamespaceRequest } from "../types.js";

/** Thrown to end the command with the exit code of its re-run inside the namespace (printed nothing). */
export class ReexecutedCommand extends Error {
  constructor(readonly exitCode: number) {
    super(`the command ran inside the user namespace and exited with ${exitCode}`);
  }
}

export type UserNamespaceQuestion = (() => Promise<UserNamespaceRequest | undefined>) | undefined;

/**
 * Asks each question (a reference's `userNamespace`, a transport's `listUserNamespace`); on the first
 * yes, re-runs this process inside the namespace and throws ReexecutedCommand with its exit code.
 * Root, or a process already inside, asks nothing.
 */
export async function enterUserNamespaceIfNeeded(questions: readonly UserNamespaceQuestion[], debug: boolean): Promise<void> {
  const { userNamespaceNeeded } = await import("../userns/process-state.js");
  if (!userNamespaceNeeded()) return;
  for (const ask of questions) {
    const request = ask ? await ask() : undefined;
    if (!request) continue;
    const { runInUserNamespace } = await import("../userns/reexec.js");
    const exitCode = await runInUserNamespace({
      what: request.what,
      onPlan: (plan) => {
        if (debug) process.stderr.write(`imgcopy: entering the user namespace for ${request.what}: ${plan.command} ${plan.args.join(" ")}\n`);
      },
    });
    throw new ReexecutedCommand(exitCode);
  }
}
