// `imgcopy list TRANSPORT:LOCATION`: what a location holds (a store's containers and images), for
// transports that can tell.
import { UnsupportedError } from "../../errors.js";
import { defaultRegistry } from "../../registry.js";
import { loadCliPlugins, systemContextFrom, type GlobalArgs } from "../global-options.js";
import { formatListing } from "../listing-format.js";
import { interruptible } from "../interrupt.js";
import { enterUserNamespaceIfNeeded } from "../user-namespace-gate.js";
import { writeJson, writeStdout } from "../stdout.js";
import { sideArgs, withRegistryContext, type RetryArgs } from "./registry-options.js";

export interface ListArgs extends GlobalArgs, RetryArgs {
  location: string;
  json: boolean;
}

/** Runs `imgcopy list` with its parsed arguments. */
export async function runList(args: ListArgs): Promise<void> {
  const ctx = withRegistryContext(systemContextFrom(args), sideArgs(args as unknown as Record<string, unknown>, ""), args, "");
  await loadCliPlugins(args);
  const colon = args.location.indexOf(":");
  const name = colon < 0 ? args.location : args.location.slice(0, colon);
  const location = colon < 0 ? "" : args.location.slice(colon + 1);
  const { lookupTransport } = await import("../../plugins.js");
  const transport = await lookupTransport(defaultRegistry, name);
  if (typeof transport.list !== "function") {
    throw new UnsupportedError(`transport "${name}" cannot list what a location holds`);
  }
  await enterUserNamespaceIfNeeded([transport.listUserNamespace?.bind(transport, location, ctx)], args.debug);
  const items = await interruptible((signal) => transport.list!(location, { ...ctx, signal }));
  if (args.json) await writeJson(items);
  else await writeStdout(formatListing(items));
}
