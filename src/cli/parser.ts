// The command line: commands, global options, help, version and completion (yargs).
import type { Argv } from "yargs";
import yargs from "yargs/yargs";
import { UsageError } from "../errors.js";
import { COMPLETION_SHELLS } from "./command-table.js";
import { completionScript } from "./completion-scripts.js";
import { copyCommand } from "./commands/copy-command.js";
import { inspectCommand } from "./commands/inspect-command.js";
import { listCommand } from "./commands/list-command.js";
import { listTagsCommand } from "./commands/list-tags-command.js";
import { loginCommand } from "./commands/login-command.js";
import { logoutCommand } from "./commands/logout-command.js";
import { transportsCommand } from "./commands/transports-command.js";
import { addGlobalOptions, type GlobalArgs } from "./global-options.js";
import { versionText } from "./package-version.js";
import { writeStdout } from "./stdout.js";

export function buildParser(args: readonly string[]): Argv<GlobalArgs> {
  const parser: Argv<GlobalArgs> = addGlobalOptions(yargs([...args]))
    .scriptName("imgcopy")
    // Repeatable flags take one value each, so "--additional-tag a:b SRC DEST" keeps SRC and DEST.
    .parserConfiguration({ "greedy-arrays": false })
    .usage("Usage: imgcopy [copy] SRC DEST [options]\n\nCopies container images between places, the way skopeo copy does.")
    .command(copyCommand("$0 <src> <dest>", "copy an image (the default command)"))
    .command(copyCommand("copy <src> <dest>", "copy an image from SRC to DEST"))
    .command(inspectCommand)
    .command(transportsCommand)
    .command(listCommand)
    .command(listTagsCommand)
    .command(loginCommand)
    .command(logoutCommand)
    // Our own command and script: yargs' built-in ones fall through to the default command when it may not exit, and know no zsh.
    .command(
      "completion [shell]",
      "print a shell completion script: source <(imgcopy completion bash)",
      (y) => y.positional("shell", { choices: COMPLETION_SHELLS, default: "bash", describe: "the shell to complete in" }),
      async (args) => {
        await writeStdout(completionScript(args.shell as "bash" | "zsh"));
      },
    )
    .example("imgcopy oci:./in:latest dir:./out", "copy an OCI layout's image into a directory")
    .example("imgcopy container-copy:mybox oci:./out:v1", "export a podman/buildah container as an image")
    .example("imgcopy oci:./in docker-archive:/dev/stdout > a.tar", "stream a docker archive to stdout")
    .example("imgcopy container-copy:web docker://registry.example:5000/team/web:1", "push a container straight to a registry")
    .version(versionText())
    .alias("h", "help")
    .alias("v", "version")
    .help()
    .strict()
    // Errors surface as rejections of parseAsync, so that one place (error-report.ts) reports them.
    .fail((message, err) => {
      throw err ?? new UsageError(missingArgumentText(message, args[0]) ?? message);
    })
    .exitProcess(false);
  return parser.wrap(Math.min(110, parser.terminalWidth()));
}

/** What each command needs, for yargs' "Not enough non-option arguments" (which names none of it). */
const NEEDS: Record<string, string> = {
  copy: "a source and a destination: imgcopy copy SRC DEST",
  inspect: "an image reference: imgcopy inspect TRANSPORT:DETAILS",
  list: "a location: imgcopy list TRANSPORT:LOCATION",
  "list-tags": "a repository: imgcopy list-tags docker://HOST/REPO",
  login: "a registry: imgcopy login HOST[:PORT]",
};

function missingArgumentText(message: string, verb: string | undefined): string | undefined {
  if (!message.startsWith("Not enough non-option arguments")) return undefined;
  const needs = NEEDS[verb ?? ""] ?? "a source and a destination: imgcopy SRC DEST";
  return `missing argument: ${verb && NEEDS[verb] ? `imgcopy ${verb}` : "imgcopy"} needs ${needs}`;
}
