// Runs one verb with its parsed arguments, importing only that verb's module: the parser (yargs)
// and the quick path (quick-args.ts) both end here, so `inspect` never loads the copy command.
import type { Verb } from "./command-table.js";

/** Parsed arguments as yargs gives them: every flag under its kebab, camelCase and alias keys. */
export type ParsedArgs = Record<string, unknown>;

export async function runCommand(verb: Verb, args: ParsedArgs): Promise<void> {
  // The casts stand where yargs' typing stood: the option tables describe these shapes.
  switch (verb) {
    case "copy":
      return (await import("./commands/copy-command.js")).runCopy(args as never);
    case "inspect":
      return (await import("./commands/inspect-command.js")).runInspect(args as never);
    case "list":
      return (await import("./commands/list-command.js")).runList(args as never);
    case "list-tags":
      return (await import("./commands/list-tags-command.js")).runListTags(args as never);
    case "login":
      return (await import("./commands/login-command.js")).runLogin(args as never);
    case "logout":
      return (await import("./commands/logout-command.js")).runLogout(args as never);
    case "transports":
      return (await import("./commands/transports-command.js")).runTransports(args as never);
    case "completion": {
      const [{ completionScript }, { writeStdout }] = await Promise.all([import("./completion-scripts.js"), import("./stdout.js")]);
      return writeStdout(completionScript(args.shell as "bash" | "zsh"));
    }
  }
}
