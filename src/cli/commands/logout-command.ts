// `imgcopy logout HOST` / `imgcopy logout --all` (podman logout): removes stored registry credentials.
import { UsageError } from "../../errors.js";
import type { GlobalArgs } from "../global-options.js";
import { interruptible } from "../interrupt.js";
import { writeStdout } from "../stdout.js";
import { registryContext, registryLogins } from "./login-command.js";

export interface LogoutArgs extends GlobalArgs {
  registry?: string;
  all: boolean;
  authfile?: string;
}

/** Runs `imgcopy logout` with its parsed arguments. */
export async function runLogout(args: LogoutArgs): Promise<void> {
  if (args.all && args.registry !== undefined) throw new UsageError("logout takes a registry or --all, not both");
  if (!args.all && args.registry === undefined) throw new UsageError("missing argument: imgcopy logout needs a registry (HOST[:PORT]) or --all");
  const ctx = registryContext(args, { authfile: args.authfile });
  const logins = await registryLogins(args);
  await interruptible((signal) => logins.logout(args.all ? undefined : args.registry, { ...ctx, signal }));
  await writeStdout(args.all ? "Removed login credentials for all registries\n" : `Removed login credentials for ${args.registry}\n`);
}
