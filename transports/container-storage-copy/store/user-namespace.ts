// The transport's answer to "must this run inside the user's namespace?": yes for an unprivileged
// user outside it (a rootless store holds files owned by subordinate ids and means owners in
// container terms). The store is resolved here, outside, so a wrong path fails before the re-exec.
import type { SystemContext, UserNamespaceRequest } from "../../../src/types.js";
import { userNamespaceNeeded } from "../../../src/userns/index.js";
import { describeStore, locateStore, type StoreSpec } from "./store-location.js";

export async function storeUserNamespace(transportName: string, spec: StoreSpec, ctx: SystemContext): Promise<UserNamespaceRequest | undefined> {
  const env = ctx.env ?? process.env;
  if (!userNamespaceNeeded(env)) return undefined;
  // Quiet: the run inside resolves the store again and gives any storage.conf warning once.
  const location = await locateStore(spec, { ...ctx, warn: () => {} }, { outsideNamespace: true });
  return { what: `${transportName} store ${describeStore(location)}` };
}
