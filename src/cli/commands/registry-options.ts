// The docker:// flags (skopeo's spelling): TLS, credentials, auth file, cert dirs, retries; for
// copy per side (--src-*/--dest-*), for inspect/list-tags once; and what they set in a SystemContext.
import type { Options } from "yargs";
import { UsageError } from "../../errors.js";
import type { SystemContext } from "../../types.js";

/** One side's registry flags as yargs gives them (camelCase). */
export interface RegistrySideArgs {
  tlsVerify?: boolean;
  creds?: string;
  username?: string;
  password?: string;
  registryToken?: string;
  certDir?: string;
  authfile?: string;
}

export interface RetryArgs {
  retryTimes?: number;
  retryDelay?: string;
  registryTimeout?: string;
}

const side = (prefix: string, who: string) =>
  ({
    [`${prefix}tls-verify`]: { type: "boolean", describe: `${who}require HTTPS and verify certificates (false: skip verification, allow plain HTTP)` },
    [`${prefix}creds`]: { type: "string", describe: `${who}USERNAME[:PASSWORD] for the registry` },
    [`${prefix}username`]: { type: "string", describe: `${who}username for the registry` },
    [`${prefix}password`]: { type: "string", describe: `${who}password for the registry` },
    [`${prefix}registry-token`]: { type: "string", describe: `${who}bearer token for the registry` },
    [`${prefix}cert-dir`]: { type: "string", describe: `${who}directory of *.crt CAs and *.cert/*.key client pairs` },
  }) as const satisfies Record<string, Options>;

export const RETRY_OPTIONS = {
  "retry-times": { type: "number", describe: "docker://: retry a failed request or copy this many times (network errors, 5xx, timeouts)" },
  "retry-delay": { type: "string", describe: "docker://: first delay between retries (e.g. 2s, 500ms), doubled each time; default 1s" },
  "registry-timeout": { type: "string", describe: "docker://: fail a connection that sends nothing for this long (e.g. 30s); default 120s" },
} as const satisfies Record<string, Options>;

/** inspect, list, list-tags: one registry. */
export const REGISTRY_OPTIONS = {
  ...side("", ""),
  authfile: { type: "string", describe: "auth file to read credentials from (default: REGISTRY_AUTH_FILE, then the usual places)" },
  ...RETRY_OPTIONS,
} as const satisfies Record<string, Options>;

/** copy: each side its own. */
export const COPY_REGISTRY_OPTIONS = {
  ...side("src-", "source: "),
  ...side("dest-", "destination: "),
  authfile: { type: "string", describe: "auth file for both sides (default: REGISTRY_AUTH_FILE, then the usual places)" },
  "src-authfile": { type: "string", describe: "source: auth file" },
  "dest-authfile": { type: "string", describe: "destination: auth file" },
  ...RETRY_OPTIONS,
  "image-parallel-copies": { type: "number", describe: "layers copied at once (default 6)" },
} as const satisfies Record<string, Options>;

/** Picks one side's flags out of the parsed args ("src"/"dest" prefix, or "" for single-registry verbs). */
export function sideArgs(args: Record<string, unknown>, prefix: "" | "src" | "dest"): RegistrySideArgs {
  const key = (name: string): string => (prefix === "" ? name : `${prefix}${name[0]!.toUpperCase()}${name.slice(1)}`);
  const str = (name: string): string | undefined => (typeof args[key(name)] === "string" ? (args[key(name)] as string) : undefined);
  const out: RegistrySideArgs = {};
  if (typeof args[key("tlsVerify")] === "boolean") out.tlsVerify = args[key("tlsVerify")] as boolean;
  for (const name of ["creds", "username", "password", "registryToken", "certDir", "authfile"] as const) {
    const v = str(name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Adds one side's registry flags (and the retry flags) to `ctx`; usage errors name the flag. */
export function withRegistryContext(ctx: SystemContext, a: RegistrySideArgs, retry: RetryArgs, prefix: string, sharedAuthfile?: string): SystemContext {
  const out: SystemContext = { ...ctx };
  const flag = (name: string): string => `--${prefix}${name}`;
  if (a.tlsVerify !== undefined) out.dockerInsecureSkipTLSVerify = !a.tlsVerify;
  if (a.creds !== undefined && (a.username !== undefined || a.password !== undefined)) {
    throw new UsageError(`${flag("creds")} and ${flag("username")}/${flag("password")} cannot be used together`);
  }
  if (a.creds !== undefined) {
    const colon = a.creds.indexOf(":");
    const username = colon < 0 ? a.creds : a.creds.slice(0, colon);
    if (username === "") throw new UsageError(`${flag("creds")}: expected USERNAME[:PASSWORD], the username is empty`);
    out.dockerAuth = { username, password: colon < 0 ? "" : a.creds.slice(colon + 1) };
  } else if (a.username !== undefined || a.password !== undefined) {
    if (a.username === undefined || a.username === "") throw new UsageError(`${flag("password")} needs ${flag("username")}`);
    out.dockerAuth = { username: a.username, password: a.password ?? "" };
  }
  if (a.registryToken !== undefined) {
    if (out.dockerAuth) throw new UsageError(`${flag("registry-token")} and credentials cannot be used together`);
    out.dockerBearerToken = a.registryToken;
  }
  if (a.certDir !== undefined) out.dockerCertPath = a.certDir;
  const authfile = a.authfile ?? sharedAuthfile ?? ctx.env?.REGISTRY_AUTH_FILE;
  if (authfile !== undefined && authfile !== "") out.authFilePath = authfile;
  if (ctx.env?.REGISTRIES_CONFIG_PATH) out.registriesConfPath = ctx.env.REGISTRIES_CONFIG_PATH;
  if (retry.retryTimes !== undefined) {
    if (!Number.isInteger(retry.retryTimes) || retry.retryTimes < 0) throw new UsageError("--retry-times needs a whole number >= 0");
    out.retryTimes = retry.retryTimes;
  }
  if (retry.retryDelay !== undefined) out.retryDelayMs = parseDuration(retry.retryDelay, "--retry-delay");
  if (retry.registryTimeout !== undefined) {
    const ms = parseDuration(retry.registryTimeout, "--registry-timeout");
    if (ms <= 0) throw new UsageError("--registry-timeout needs a duration above 0");
    out.dockerStallTimeoutMs = ms;
  }
  return out;
}

/** "1.5s", "500ms", "2m", or a bare number of seconds, in ms. */
export function parseDuration(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a duration such as 2s, 500ms or 1m`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * unit);
}
