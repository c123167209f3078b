// `imgcopy login` / `logout` for docker:// registries, as podman does them: the credentials are
// checked with a GET /v2/ through the whole auth flow before they are written to the auth file.
import { AuthError, BadReferenceError, NotFoundError, isImgcopyError } from "../../../src/errors.js";
import type { RegistryLogins, SystemContext } from "../../../src/types.js";
import { registryEndpointHost } from "../reference.js";
import { planRegistry } from "../registries-conf.js";
import { authFileLocations, envOf, normalizeAuthKey, readAuthFile, writableAuthFile } from "./auth-file.js";
import { removeAllCredentials, removeCredentials, storeCredentials, type AuthFileWriteOptions } from "./auth-file-store.js";
import { findCredentials } from "./credentials.js";

/** HOST[:PORT][/NAMESPACE] as the user typed it (a scheme and trailing slash tolerated), split and normalised. */
export function parseLoginTarget(text: string): { host: string; namespace: string; key: string } {
  // A URL ("https://index.docker.io/v1/") names its host only, as in Docker's auth files.
  const key = normalizeAuthKey(text.replace(/\/+$/, ""));
  const slash = key.indexOf("/");
  const host = slash < 0 ? key : key.slice(0, slash);
  const namespace = slash < 0 ? "" : key.slice(slash + 1);
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?$/.test(host) || !/^([a-z0-9._/-]*)$/.test(namespace)) {
    throw new BadReferenceError(`${JSON.stringify(text)} is not a registry: expected HOST[:PORT][/NAMESPACE]`);
  }
  return { host, namespace, key };
}

export const dockerLogins: RegistryLogins = {
  async login(target, credentials, ctx) {
    const { host, namespace, key } = parseLoginTarget(target);
    await verifyCredentials(host, namespace, credentials, ctx);
    const path = writableAuthFile(ctx);
    await storeCredentials(path, key, credentials.username, credentials.password, lockOptions(ctx));
    return path;
  },

  async logout(target, ctx) {
    const path = writableAuthFile(ctx);
    if (target === undefined) {
      await removeAllCredentials(path, lockOptions(ctx));
      return path;
    }
    const { key } = parseLoginTarget(target);
    if (await removeCredentials(path, key, lockOptions(ctx))) return path;
    // Someone else's login (docker login writes ~/.docker/config.json): say where it is instead of "not logged in".
    for (const location of authFileLocations(ctx)) {
      if (location.path === path) continue;
      const content = await readAuthFile(location).catch(() => undefined);
      if (content?.auths && Object.keys(content.auths).some((k) => normalizeAuthKey(k) === key)) {
        throw new NotFoundError(`not logged in to ${key} in ${path}; the credentials for it are in ${location.path} (remove them there)`);
      }
    }
    throw new NotFoundError(`not logged in to ${key} (auth file ${path})`);
  },

  async storedUser(target, ctx) {
    const { host, namespace, key } = parseLoginTarget(target);
    const found = await findCredentials(host, namespace, { ...ctx, dockerAuth: undefined, dockerBearerToken: undefined });
    if (found?.username === undefined || found.username === "") throw new NotFoundError(`not logged in to ${key}`);
    return found.username;
  },
};

function lockOptions(ctx: SystemContext): AuthFileWriteOptions {
  return { timeoutMs: ctx.lockTimeoutMs, warn: ctx.warn, env: envOf(ctx), signal: ctx.signal };
}

/** GET /v2/ with these credentials (basic or through the token realm); an AuthError naming the registry when refused. */
async function verifyCredentials(host: string, namespace: string, credentials: { username: string; password: string }, ctx: SystemContext): Promise<void> {
  const plan = await planRegistry(host, ctx);
  if (plan.blocked) throw new AuthError(`registry ${host} is blocked in registries.conf`);
  const { RegistryClient } = await import("../registry-client.js");
  const what = `login to ${host}`;
  const loginCtx: SystemContext = { ...ctx, dockerAuth: credentials, dockerBearerToken: undefined };
  let client;
  try {
    client = await RegistryClient.connect(
      { registry: host, endpoint: registryEndpointHost(host), repository: namespace, insecure: plan.primary.insecure, isMirror: false, what },
      loginCtx,
    );
    const res = await client.send({ method: "GET", url: "/v2/", scopes: [], expect: [200], what, signal: ctx.signal });
    await res.body.dump().catch(() => undefined);
  } catch (err) {
    if (isImgcopyError(err) && err.code === "EAUTH" && !err.message.includes(credentials.username)) {
      throw new AuthError(`login to ${host} refused for user ${credentials.username}: ${err.message}`, { cause: err });
    }
    throw err;
  } finally {
    await client?.close();
  }
}
