// Finds the credentials for a registry namespace in containers/image's order: command-line flags,
// then registries.conf's credential-helpers, where "containers-auth.json" (the default) means each
// auth file in turn (credHelpers, auths by longest namespace, then credsStore).
import type { SystemContext } from "../../../src/types.js";
import {
  authFileLocations,
  decodeAuthEntry,
  envOf,
  findAuthEntry,
  normalizeAuthKey,
  readAuthFile,
  type AuthFileContent,
} from "./auth-file.js";
import { CONTAINERS_AUTH_FILES, credentialHelpers } from "../registries-conf.js";

export interface RegistryCredentials {
  username?: string;
  password?: string;
  identityToken?: string;
  bearerToken?: string;
}

/** Docker writes (and its helpers store) Docker Hub under this URL. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

/**
 * Credentials for HOST[:PORT]/REPO in containers/image's order (flags, then credHelpers/auths/credsStore
 * of the auth file(s)); undefined = anonymous. `registry` is the reference's host as written (docker.io for Hub).
 */
export async function findCredentials(registry: string, repository: string, ctx: SystemContext): Promise<RegistryCredentials | undefined> {
  if (ctx.dockerBearerToken !== undefined) return { bearerToken: ctx.dockerBearerToken };
  if (ctx.dockerAuth !== undefined) return { username: ctx.dockerAuth.username, password: ctx.dockerAuth.password };
  const host = normalizeAuthKey(registry);
  // registries.conf's credential-helpers: "containers-auth.json" stands for the auth files.
  for (const helper of await credentialHelpers(ctx)) {
    const found =
      helper === CONTAINERS_AUTH_FILES
        ? await credentialsInAuthFiles(host, repository, ctx)
        : fromHelperAnswer(await helperGet(helper, helperServer(host), envOf(ctx), ctx.signal));
    if (found !== undefined) return found;
  }
  return undefined;
}

async function credentialsInAuthFiles(host: string, repository: string, ctx: SystemContext): Promise<RegistryCredentials | undefined> {
  for (const location of authFileLocations(ctx)) {
    const content = await readAuthFile(location);
    if (content === undefined) continue;
    const found = await credentialsInFile(content, location.path, host, repository, ctx);
    if (found !== undefined) return found;
  }
  return undefined;
}

function fromHelperAnswer(got: { username: string; secret: string; identityToken: boolean } | undefined): RegistryCredentials | undefined {
  return got === undefined ? undefined : fromHelper(got);
}

/** What one auth file gives for HOST/REPO: its credHelpers entry, else auths by longest match, else credsStore. */
export async function credentialsInFile(
  content: AuthFileContent,
  path: string,
  host: string,
  repository: string,
  ctx: SystemContext,
): Promise<RegistryCredentials | undefined> {
  const env = envOf(ctx);
  const helper = helperFor(content, host);
  if (helper !== undefined) {
    const got = await helperGet(helper, helperServer(host), env, ctx.signal);
    if (got !== undefined) return fromHelper(got);
  }
  const entry = findAuthEntry(content, host, repository);
  if (entry !== undefined) {
    const basic = decodeAuthEntry(entry, path, host);
    if (entry.identitytoken) return { ...(basic ? { username: basic.username } : {}), identityToken: entry.identitytoken };
    if (basic !== undefined) return basic;
  }
  if (typeof content.credsStore === "string" && content.credsStore !== "") {
    const got = await helperGet(content.credsStore, helperServer(host), env, ctx.signal);
    if (got !== undefined) return fromHelper(got);
  }
  return undefined;
}

/** The credHelpers entry for HOST (keys compared as normalised auth keys). */
export function helperFor(content: AuthFileContent, host: string): string | undefined {
  const helpers = content.credHelpers ?? {};
  if (typeof helpers[host] === "string") return helpers[host];
  for (const [key, name] of Object.entries(helpers)) {
    if (normalizeAuthKey(key) === host && typeof name === "string") return name;
  }
  return undefined;
}

/** What helpers are asked for: the host, or for Docker Hub the URL docker stored it under. */
export function helperServer(host: string): string {
  return host === "docker.io" ? DOCKER_HUB_AUTH_KEY : host;
}

function fromHelper(got: { username: string; secret: string; identityToken: boolean }): RegistryCredentials {
  return got.identityToken ? { identityToken: got.secret } : { username: got.username, password: got.secret };
}

/** `docker-credential-NAME get`, loaded only when a helper is configured. */
async function helperGet(...args: Parameters<typeof import("./credential-helper.js").helperGet>): ReturnType<typeof import("./credential-helper.js").helperGet> {
  return (await import("./credential-helper.js")).helperGet(...args);
}
