// `imgcopy logout HOST` / `imgcopy logout --all` (podman logout): removes stored registry credentials.
import type { Argv, CommandModule, Options } from "yargs";
import { UsageError } from "../../errors.js";
import type { GlobalArgs } from "../global-options.js";
import { interruptible } from "../interrupt.js";
import { writeStdout } from "../stdout.js";
import { LOGIN_TARGET_OPTIONS, registryContext, registryLogins } from "./login-command.js";

interface LogoutArgs extends GlobalArgs {
  registry?: string;
  all: boolean;
  authfile?: string;
}

export const LOGOUT_OPTIONS = {
  all: { alias: "a", type: "boolean", default: false, describe: "remove the credentials of every registry" },
  ...LOGIN_TARGET_OPTIONS,
} as const satisfies Record<string, Options>;

export const logoutCommand: CommandModule<GlobalArgs, LogoutArgs> = {
  command: "logout [registry]",
  describe: "log out of a registry (or --all): remove its credentials from the auth file (podman logout)",
  builder: (y) =>
    y
      .positional("registry", { type: "string", describe: "HOST[:PORT][/NAMESPACE]" })
      .options(LOGOUT_OPTIONS) as unknown as Argv<LogoutArgs>, // yargs infers kebab and camel keys both
  handler: async (args) => {
    if (args.all && args.registry !== undefined) throw new UsageError("logout takes a registry or --all, not both");
    if (!args.all && args.registry === undefined) throw new UsageError("missing argument: imgcopy logout needs a registry (HOST[:PORT]) or --all");
    const ctx = registryContext(args, { authfile: args.authfile });
    const logins = await registryLogins(args);
    await interruptible((signal) => logins.logout(args.all ? undefined : args.registry, { ...ctx, signal }));
    await writeStdout(args.all ? "Removed login credentials for all registries\n" : `Removed login credentials for ${args.registry}\n`);
  },
};
