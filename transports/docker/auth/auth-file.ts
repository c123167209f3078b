// Auth files (containers auth.json, Docker's config.json and legacy .dockercfg): where they are, in
// containers/image's order, and what one of them says about a registry namespace.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { AuthError, describeFsError } from "../../../src/errors.js";
import type { SystemContext } from "../../../src/types.js";

/** One `auths` entry as podman and docker write it. */
export interface AuthEntry {
  auth?: string;
  identitytoken?: string;
  /** Old docker files kept these beside `auth`. */
  username?: string;
  password?: string;
}

/** The parts of an auth file we read; every other key is kept as it is when we write. */
export interface AuthFileContent {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

/** An auth file to consult; `legacy` = ~/.dockercfg, whose top level is the `auths` map itself. */
export interface AuthFileLocation {
  path: string;
  legacy: boolean;
}

export function envOf(ctx: SystemContext): NodeJS.ProcessEnv {
  return ctx.env ?? process.env;
}

export function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

/**
 * The auth files to read, in order: --authfile or REGISTRY_AUTH_FILE alone when given; else the
 * runtime dir's, XDG_CONFIG_HOME's, Docker's config.json and ~/.dockercfg.
 */
export function authFileLocations(ctx: SystemContext): AuthFileLocation[] {
  const env = envOf(ctx);
  const only = ctx.authFilePath ?? (env.REGISTRY_AUTH_FILE || undefined);
  if (only !== undefined) return [{ path: only, legacy: false }];
  const home = homeOf(env);
  return [
    { path: runtimeAuthFile(env), legacy: false },
    { path: join(env.XDG_CONFIG_HOME || join(home, ".config"), "containers", "auth.json"), legacy: false },
    { path: env.DOCKER_CONFIG ? join(env.DOCKER_CONFIG, "config.json") : join(home, ".docker", "config.json"), legacy: false },
    { path: join(home, ".dockercfg"), legacy: true },
  ];
}

/** Where `login` writes and `logout` removes, as podman: the given file, else the runtime dir's auth.json. */
export function writableAuthFile(ctx: SystemContext): string {
  const env = envOf(ctx);
  return ctx.authFilePath ?? (env.REGISTRY_AUTH_FILE || runtimeAuthFile(env));
}

function runtimeAuthFile(env: NodeJS.ProcessEnv): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "containers", "auth.json");
  return join("/run/containers", String(process.getuid?.() ?? 0), "auth.json");
}

/** Reads an auth file; undefined when it does not exist. Bad JSON is an error naming the file. */
export async function readAuthFile(location: AuthFileLocation): Promise<AuthFileContent | undefined> {
  let text: string;
  try {
    text = await readFile(location.path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw describeFsError(err, `auth file ${location.path}`);
  }
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new AuthError(`auth file ${location.path}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AuthError(`auth file ${location.path}: expected a JSON object`);
  }
  if (location.legacy) return { auths: parsed as Record<string, AuthEntry> };
  const content = parsed as AuthFileContent;
  if (content.auths !== undefined && (typeof content.auths !== "object" || content.auths === null)) {
    throw new AuthError(`auth file ${location.path}: "auths" is not an object`);
  }
  return content;
}

/** "https://index.docker.io/v1/" -> "docker.io"; "http://host:5000/x" -> "host:5000"; plain keys as they are. */
export function normalizeAuthKey(key: string): string {
  let k = key;
  const scheme = /^https?:\/\//.exec(k);
  // A key with a scheme is Docker's legacy URL form: only its host counts.
  if (scheme) k = k.slice(scheme[0].length).split("/")[0]!;
  if (k === "index.docker.io" || k === "registry-1.docker.io") return "docker.io";
  if (k.startsWith("index.docker.io/")) return `docker.io/${k.slice("index.docker.io/".length)}`;
  return k;
}

/** The keys to try for REGISTRY/REPO, most specific first: "h/ns/repo", "h/ns", "h". */
export function namespaceKeys(registry: string, repository: string): string[] {
  const keys: string[] = [];
  const parts = repository === "" ? [] : repository.split("/");
  for (let n = parts.length; n >= 1; n--) keys.push(`${registry}/${parts.slice(0, n).join("/")}`);
  keys.push(registry);
  return keys;
}

/** The `auths` entry for the longest matching namespace (keys normalised as containers/image does). */
export function findAuthEntry(content: AuthFileContent, registry: string, repository: string): AuthEntry | undefined {
  const auths = content.auths ?? {};
  const byKey = new Map<string, AuthEntry>();
  // Exact keys win over legacy URL keys that normalise to the same namespace.
  for (const [key, entry] of Object.entries(auths)) {
    const normal = normalizeAuthKey(key);
    if (normal === key || !byKey.has(normal)) byKey.set(normal, entry);
  }
  for (const key of namespaceKeys(registry, repository)) {
    const entry = byKey.get(key);
    if (entry !== undefined) return entry;
  }
  return undefined;
}

/** user and password from an entry's base64 "user:pass" `auth` (or its old separate fields). */
export function decodeAuthEntry(entry: AuthEntry, path: string, key: string): { username: string; password: string } | undefined {
  if (entry.auth) {
    const text = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = text.indexOf(":");
    if (colon < 0) throw new AuthError(`auth file ${path}: the "auth" of ${key} is not base64 of "user:password"`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return undefined;
}
