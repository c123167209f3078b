// `imgcopy list-tags docker://HOST/REPO`: a repository's tags, printed as skopeo list-tags prints them.
import { UnsupportedError, UsageError } from "../../errors.js";
import { defaultRegistry } from "../../registry.js";
import { loadCliPlugins, systemContextFrom, type GlobalArgs } from "../global-options.js";
import { interruptible } from "../interrupt.js";
import { writeStdout } from "../stdout.js";
import { sideArgs, withRegistryContext, type RetryArgs } from "./registry-options.js";

export interface ListTagsArgs extends GlobalArgs, RetryArgs {
  repository: string;
}

/** Runs `imgcopy list-tags` with its parsed arguments. */
export async function runListTags(args: ListTagsArgs): Promise<void> {
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
}
