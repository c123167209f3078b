// The command line: commands, global options, help, version and completion (yargs).
import type { Argv } from "yargs";
import yargs from "yargs/yargs";
import { UsageError } from "../errors.js";
import { COMPLETION_SHELLS, type Verb } from "./command-table.js";
import { addCopyOptions } from "./commands/copy-options.js";
import { addGlobalOptions, type GlobalArgs } from "./global-options.js";
import packageVersion from "./package-version.cjs";
import { runCommand, type ParsedArgs } from "./run-command.js";
import { INSPECT_OPTIONS, LIST_OPTIONS, LIST_TAGS_OPTIONS, LOGIN_OPTIONS, LOGOUT_OPTIONS, TRANSPORTS_OPTIONS } from "./verb-options.js";

/** What a command does once parsed: run it (the default), or e.g. hand the arguments to a test. */
export type CommandRunner = (verb: Verb, args: ParsedArgs) => Promise<void>;

export function buildParser(args: readonly string[], run: CommandRunner = runCommand): Argv<GlobalArgs> {
  const to = (verb: Verb) => (argv: ParsedArgs) => run(verb, argv);
  const parser: Argv<GlobalArgs> = addGlobalOptions(yargs([...args]))
    .scriptName("imgcopy")
    // Repeatable flags take one value each, so "--additional-tag a:b SRC DEST" keeps SRC and DEST.
    .parserConfiguration({ "greedy-arrays": false })
    .usage("Usage: imgcopy [copy] SRC DEST [options]\n\nCopies container images between places, the way skopeo copy does.")
    .command("$0 <src> <dest>", "copy an image (the default command)", copyBuilder, to("copy"))
    .command("copy <src> <dest>", "copy an image from SRC to DEST", copyBuilder, to("copy"))
    .command(
      "inspect <ref>",
      "print what an image is, as JSON (skopeo inspect)",
      (y) => y.positional("ref", { type: "string", demandOption: true, describe: "image, TRANSPORT:DETAILS" }).options(INSPECT_OPTIONS),
      to("inspect"),
    )
    .command(
      "transports",
      "list the transports, with the plugin that provides each, and the plugins that were refused",
      (y) => y.options(TRANSPORTS_OPTIONS),
      to("transports"),
    )
    .command(
      "list <location>",
      "list what a location holds, e.g. list container-copy: (a store's containers and images)",
      (y) => y.positional("location", { type: "string", demandOption: true, describe: "TRANSPORT:LOCATION, or just TRANSPORT" }).options(LIST_OPTIONS),
      to("list"),
    )
    .command(
      "list-tags <repository>",
      "list a registry repository's tags (skopeo list-tags): docker://HOST/REPO",
      (y) => y.positional("repository", { type: "string", demandOption: true, describe: "docker://[HOST[:PORT]/]REPO" }).options(LIST_TAGS_OPTIONS),
      to("list-tags"),
    )
    .command(
      "login <registry>",
      "log in to a registry: check the credentials and keep them in the auth file (podman login)",
      (y) => y.positional("registry", { type: "string", demandOption: true, describe: "HOST[:PORT][/NAMESPACE]" }).options(LOGIN_OPTIONS),
      to("login"),
    )
    .command(
      "logout [registry]",
      "log out of a registry (or --all): remove its credentials from the auth file (podman logout)",
      (y) => y.positional("registry", { type: "string", describe: "HOST[:PORT][/NAMESPACE]" }).options(LOGOUT_OPTIONS),
      to("logout"),
    )
    // Our own command and script: yargs' built-in ones fall through to the default command when it may not exit, and know no zsh.
    .command(
      "completion [shell]",
      "print a shell completion script: source <(imgcopy completion bash)",
      (y) => y.positional("shell", { choices: COMPLETION_SHELLS, default: "bash", describe: "the shell to complete in" }),
      to("completion"),
    )
    .example("imgcopy oci:./in:latest dir:./out", "copy an OCI layout's image into a directory")
    .example("imgcopy container-copy:mybox oci:./out:v1", "export a podman/buildah container as an image")
    .example("imgcopy oci:./in docker-archive:/dev/stdout > a.tar", "stream a docker archive to stdout")
    .example("imgcopy container-copy:web docker://registry.example:5000/team/web:1", "push a container straight to a registry")
    .version(packageVersion.versionText())
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

const copyBuilder = (y: Argv<GlobalArgs>): Argv => addCopyOptions(y) as unknown as Argv;

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
