// Stand-ins for the auth helper's modules (registry-authenticator, tls-config, registries-conf),
// same signatures, used only until those land: anonymous/basic auth, no cert dirs, no registries.conf.
import type { SystemContext } from "../../src/types.js";
import type { RegistryCredentials } from "./auth/credentials.js";

export interface TokenRequester {
  (url: URL, init: { method: "GET" | "POST"; headers: Record<string, string>; body?: string }): Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
  }>;
}

export class RegistryAuthenticator {
  constructor(private readonly opts: { registry: string; credentials: RegistryCredentials | undefined; request: TokenRequester }) {}
  noteChallenge(_status: number, _wwwAuthenticate: string | string[] | undefined): void {}
  async authorization(_scopes: readonly string[], _signal?: AbortSignal): Promise<string | undefined> {
    const c = this.opts.credentials;
    if (c?.username !== undefined && c.password !== undefined) return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
    return undefined;
  }
  async handleUnauthorized(_w: string | string[] | undefined, _scopes: readonly string[], _signal?: AbortSignal): Promise<boolean> {
    return false;
  }
}

export interface RegistryTls { ca?: Buffer[]; cert?: Buffer; key?: Buffer; verify: boolean; allowPlainHttp: boolean }
export async function registryTls(_hostPort: string, ctx: SystemContext, insecureFromConf: boolean): Promise<RegistryTls> {
  const insecure = ctx.dockerInsecureSkipTLSVerify ?? insecureFromConf;
  return { verify: !insecure, allowPlainHttp: insecure };
}

export interface RegistryEndpoint { location: string; insecure: boolean }
export interface RegistryPlan { blocked: boolean; primary: RegistryEndpoint; pullMirrors: RegistryEndpoint[] }
export async function planRegistry(hostAndRepo: string, _ctx: SystemContext): Promise<RegistryPlan> {
  return { blocked: false, primary: { location: hostAndRepo, insecure: false }, pullMirrors: [] };
}
