// `imgcopy list-tags docker://HOST/REPO`: a repository's tags, printed as skopeo list-tags prints them.
import type { Argv, CommandModule, Options } from "yargs";
import { UnsupportedError, UsageError } from "../../errors.js";
import { defaultRegistry } from "../../registry.js";
import { loadCliPlugins, systemContextFrom, type GlobalArgs } from "../global-options.js";
import { interruptible } from "../interrupt.js";
import { writeStdout } from "../stdout.js";
import { REGISTRY_OPTIONS, sideArgs, withRegistryContext, type RetryArgs } from "./registry-options.js";

interface ListTagsArgs extends GlobalArgs, RetryArgs {
  repository: string;
}

export const LIST_TAGS_OPTIONS = { ...REGISTRY_OPTIONS } as const satisfies Record<string, Options>;

export const listTagsCommand: CommandModule<GlobalArgs, ListTagsArgs> = {
  command: "list-tags <repository>",
  describe: "list a registry repository's tags (skopeo list-tags): docker://HOST/REPO",
  builder: (y) =>
    y
      .positional("repository", { type: "string", demandOption: true, describe: "docker://[HOST[:PORT]/]REPO" })
      .options(LIST_TAGS_OPTIONS) as unknown as Argv<ListTagsArgs>, // yargs infers kebab and camel keys both
  handler: async (args) => {
    const ctx = withRegistryContext(systemContextFrom(args), sideArgs(args as unknown as Record<string, unknown>, ""), args, "");
    await loadCliPlugins(args);
    const colon = args.repository.indexOf(":");
    if (colon <= 0) throw new UsageError(`list-tags takes TRANSPORT:REPOSITORY (docker://HOST/REPO), not ${JSON.stringify(args.repository)}`);
    const name = args.repository.slice(0, colon);
    const { lookupTransport } = await import("../../plugins.js");
    const transport = await lookupTransport(defaultRegistry, name);
    if (typeof transport.listTags !== "function") throw new UnsupportedError(`transport "${name}" has no tags to list (list-tags takes docker://HOST/REPO)`);
    const location = args.repository.slice(colon + 1);
    const result = await interruptible((signal) => transport.listTags!(location, { ...ctx, signal }));
    await writeStdout(`${JSON.stringify(result, null, 4)}\n`);
  },
};
