// Where a reference's requests go: registries.conf's plan (blocked, location rewrite, insecure, pull
// mirrors first), each endpoint connected on demand.
import { UnsupportedError } from "../../src/errors.js";
import type { SystemContext } from "../../src/types.js";
import type { DockerReference } from "./reference.js";
import { registryEndpointHost } from "./reference.js";
import { RegistryClient } from "./registry-client.js";
import { planRegistry, type RegistryEndpoint } from "./registries-conf.js";

export interface Endpoint {
  /** HOST[:PORT] requests go to. */
  host: string;
  /** The repository on that host (a location rewrite may change it). */
  repository: string;
  insecure: boolean;
  isMirror: boolean;
}

/**
 * The endpoints to try, in order: pull mirrors (pulls only), then the primary location. `what` names the
 * reference in messages (a repository, for list-tags, has no tag to show).
 */
export async function endpointsFor(ref: DockerReference, ctx: SystemContext, forPull: boolean, what = ref.toString()): Promise<Endpoint[]> {
  // With the tag or digest: registries.conf mirrors may be for digest pulls only, or tag pulls only.
  const plan = await planRegistry(ref.toString().slice("docker://".length), ctx);
  if (plan.blocked) throw new UnsupportedError(`${what}: registry ${ref.registry} is blocked in registries.conf`);
  const mirrors = forPull ? plan.pullMirrors.map((m) => endpointOf(m, ref, true)) : [];
  return [...mirrors, endpointOf(plan.primary, ref, false)];
}

/** A location "HOST[:PORT][/REPO]" (the reference's name with its matched prefix rewritten). */
function endpointOf(e: RegistryEndpoint, ref: DockerReference, isMirror: boolean): Endpoint {
  const slash = e.location.indexOf("/");
  const host = slash < 0 ? e.location : e.location.slice(0, slash);
  const repository = slash < 0 ? ref.repository : e.location.slice(slash + 1);
  return { host: registryEndpointHost(host), repository, insecure: e.insecure, isMirror };
}

/**
 * Connects to `endpoint` for `ref`; credentials and cert dirs are looked up by the reference's own registry.
 * `what` names the reference in messages.
 */
export function connectEndpoint(ref: DockerReference, endpoint: Endpoint, ctx: SystemContext, what = ref.toString()): Promise<RegistryClient> {
  return RegistryClient.connect(
    {
      registry: endpoint.isMirror ? endpoint.host : ref.registry,
      endpoint: endpoint.host,
      repository: endpoint.repository,
      insecure: endpoint.insecure,
      isMirror: endpoint.isMirror,
      what,
    },
    ctx,
  );
}

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}
