// registries.conf (containers-registries.conf(5), v2 and the old v1 tables): where a "host/repo"
// really goes: longest-prefix [[registry]] entry, location rewrite, insecure, blocked, pull mirrors.
import { access, readFile, readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { CorruptInputError, describeFsError } from "../../src/errors.js";
import type { SystemContext } from "../../src/types.js";

export interface RegistryEndpoint {
  /** host[:port][/path] */
  location: string;
  insecure: boolean;
}
export interface RegistryPlan {
  blocked: boolean;
  primary: RegistryEndpoint;
  pullMirrors: RegistryEndpoint[];
}

type PullFromMirror = "all" | "digest-only" | "tag-only";

interface MirrorEntry {
  location: string;
  insecure: boolean;
  pullFromMirror: PullFromMirror;
}

/** One [[registry]] table, checked. */
export interface RegistryEntry {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrorByDigestOnly: boolean;
  mirrors: MirrorEntry[];
  /** The file it came from (for messages). */
  file: string;
}

export const SYSTEM_REGISTRIES_CONF = "/etc/containers/registries.conf";

/**
 * From registries.conf (+ conf.d): prefix match on "host/repo", location rewrite, insecure, blocked, mirrors.
 * Errors name the file and line. `hostAndRepo` may end in ":TAG" or "@DIGEST": mirrors marked
 * digest-only or tag-only are then kept or dropped accordingly (no suffix counts as a tag pull).
 */
export async function planRegistry(hostAndRepo: string, ctx: SystemContext): Promise<RegistryPlan> {
  const { name, byDigest } = splitReference(hostAndRepo);
  const entries = await loadRegistriesConf(ctx);
  const entry = matchingEntry(entries, name);
  if (entry === undefined) return { blocked: false, primary: { location: name, insecure: false }, pullMirrors: [] };
  const rest = name.slice(matchedLength(entry.prefix, name));
  const rewrite = (location: string): string => (entry.prefix.startsWith("*.") ? name : `${location}${rest}`);
  const pullMirrors = entry.mirrors
    .filter((m) => {
      const mode = entry.mirrorByDigestOnly ? "digest-only" : m.pullFromMirror;
      return mode === "all" || (mode === "digest-only" ? byDigest : !byDigest);
    })
    .map((m) => ({ location: rewrite(m.location), insecure: m.insecure }));
  return { blocked: entry.blocked, primary: { location: rewrite(entry.location), insecure: entry.insecure }, pullMirrors };
}

/** "host/repo:tag" -> name "host/repo"; "host/repo@sha256:..." -> by digest. */
function splitReference(text: string): { name: string; byDigest: boolean } {
  const at = text.indexOf("@");
  if (at >= 0) return { name: text.slice(0, at), byDigest: true };
  const colon = text.lastIndexOf(":");
  // A colon after the last slash is a tag (one before it is the host's port).
  if (colon > text.lastIndexOf("/") && text.includes("/")) return { name: text.slice(0, colon), byDigest: false };
  return { name: text, byDigest: false };
}

/** The entry whose prefix matches `name` the longest (containers/image's rule). */
export function matchingEntry(entries: readonly RegistryEntry[], name: string): RegistryEntry | undefined {
  let best: RegistryEntry | undefined;
  let bestLength = -1;
  for (const e of entries) {
    const length = matchedLength(e.prefix, name);
    if (length > bestLength) {
      best = e;
      bestLength = length;
    }
  }
  return best;
}

/** How much of `name` `prefix` covers, or -1. "*.example.com" covers the host part of a subdomain's name. */
function matchedLength(prefix: string, name: string): number {
  if (prefix.startsWith("*.")) {
    const host = name.split("/")[0]!;
    return host.replace(/:\d+$/, "").endsWith(prefix.slice(1)) ? host.length : -1;
  }
  if (name === prefix) return prefix.length;
  return name.startsWith(prefix) && name[prefix.length] === "/" ? prefix.length : -1;
}

/** The files read, in order: the main file, then drop-ins by name (a user drop-in replaces a system one of the same name). */
export async function registriesConfFiles(ctx: SystemContext): Promise<string[]> {
  const env = ctx.env ?? process.env;
  const explicit = ctx.registriesConfPath ?? (env.REGISTRIES_CONFIG_PATH || undefined);
  const home = env.HOME || homedir();
  const userConf = join(env.XDG_CONFIG_HOME || join(home, ".config"), "containers", "registries.conf");
  let main: string | undefined = explicit;
  if (main === undefined) main = (await exists(userConf)) ? userConf : SYSTEM_REGISTRIES_CONF;
  const dropInDirs = explicit !== undefined ? [`${explicit}.d`] : [`${SYSTEM_REGISTRIES_CONF}.d`, `${userConf}.d`];
  const dropIns = new Map<string, string>();
  for (const dir of dropInDirs) {
    for (const name of await confNames(dir)) dropIns.set(name, join(dir, name));
  }
  const files = (await exists(main)) ? [main] : [];
  return [...files, ...[...dropIns.keys()].sort().map((n) => dropIns.get(n)!)];
}

/** Every [[registry]] entry in force: a drop-in's entry replaces an earlier one with the same prefix. */
export async function loadRegistriesConf(ctx: SystemContext): Promise<RegistryEntry[]> {
  return (await loadRegistriesConfig(ctx)).entries;
}

/** The top-level `credential-helpers` in force (the last file that sets it wins); default: the auth files alone. */
export async function credentialHelpers(ctx: SystemContext): Promise<string[]> {
  return (await loadRegistriesConfig(ctx)).credentialHelpers ?? [CONTAINERS_AUTH_FILES];
}

/** The reserved credential-helpers name that stands for the auth files (containers-auth.json(5)). */
export const CONTAINERS_AUTH_FILES = "containers-auth.json";

interface ConfFileContent {
  entries: RegistryEntry[];
  credentialHelpers?: string[];
}

async function loadRegistriesConfig(ctx: SystemContext): Promise<ConfFileContent> {
  const byPrefix = new Map<string, RegistryEntry>();
  let helpers: string[] | undefined;
  for (const file of await registriesConfFiles(ctx)) {
    const content = await readConfFile(file);
    for (const entry of content.entries) byPrefix.set(entry.prefix, entry);
    if (content.credentialHelpers !== undefined) helpers = content.credentialHelpers;
  }
  return { entries: [...byPrefix.values()], ...(helpers !== undefined ? { credentialHelpers: helpers } : {}) };
}

/** Files parsed by this process, with the text they had: a copy reads the configuration twice (endpoints, credential helpers). */
const parsedFiles = new Map<string, { text: string; content: ConfFileContent }>();

/** Parses one file; a TOML error names the file and line, a bad value the file, the line and the key. */
export async function readConfFile(file: string): Promise<ConfFileContent> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw describeFsError(err, file);
  }
  const parsed = parsedFiles.get(file);
  if (parsed?.text === text) return parsed.content;
  const content = await parseConfText(file, text);
  parsedFiles.set(file, { text, content });
  return content;
}

async function parseConfText(file: string, text: string): Promise<ConfFileContent> {
  // The TOML parser loads only when there is a file to parse (none on many machines).
  const { parse: parseToml, TomlError } = await import("smol-toml");
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const reason = err.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      throw new CorruptInputError(`${file}:${err.line}: ${reason}`, { cause: err });
    }
    throw err;
  }
  const check = new Checker(file, text);
  const entries: RegistryEntry[] = [];
  const tables = doc.registry;
  if (tables !== undefined) {
    if (!Array.isArray(tables)) throw check.fail("registry", "[[registry]] must be an array of tables");
    tables.forEach((t, i) => entries.push(check.registry(t as Record<string, unknown>, i)));
  }
  entries.push(...check.v1(doc.registries));
  const helpers = doc["credential-helpers"];
  if (helpers === undefined) return { entries };
  if (!Array.isArray(helpers) || helpers.some((h) => typeof h !== "string" || h === "")) {
    throw check.fail("credential-helpers", "credential-helpers must be a list of helper names");
  }
  return { entries, credentialHelpers: helpers as string[] };
}

class Checker {
  private readonly lines: string[];
  /** The line where the [[registry]] being checked starts, so that messages point into it. */
  private from = 0;

  constructor(private readonly file: string, text: string) {
    this.lines = text.split("\n");
  }

  registry(t: Record<string, unknown>, index: number): RegistryEntry {
    const headers = this.lines.flatMap((line, i) => (/^\s*\[\[\s*registry\s*\]\]/.test(line) ? [i] : []));
    this.from = headers[index] ?? 0;
    const location = this.str(t, "location") ?? "";
    const prefix = this.str(t, "prefix") ?? location;
    if (prefix === "") throw this.fail("location", "a [[registry]] needs a prefix or a location");
    if (prefix.startsWith("*.") && location !== "") throw this.fail(prefix, `prefix ${prefix}: a wildcard prefix cannot have a location`);
    if (/^https?:\/\//.test(location) || /^https?:\/\//.test(prefix)) throw this.fail(location || prefix, `${location || prefix}: no scheme (http://) in prefix or location`);
    const mirrors = t.mirror === undefined ? [] : t.mirror;
    if (!Array.isArray(mirrors)) throw this.fail("mirror", "[[registry.mirror]] must be an array of tables");
    return {
      prefix,
      location: location || prefix,
      insecure: this.bool(t, "insecure") ?? false,
      blocked: this.bool(t, "blocked") ?? false,
      mirrorByDigestOnly: this.bool(t, "mirror-by-digest-only") ?? false,
      mirrors: mirrors.map((m: Record<string, unknown>) => this.mirror(m)),
      file: this.file,
    };
  }

  private mirror(m: Record<string, unknown>): MirrorEntry {
    const location = this.str(m, "location");
    if (!location) throw this.fail("mirror", "a [[registry.mirror]] needs a location");
    const mode = this.str(m, "pull-from-mirror") ?? "all";
    if (mode !== "all" && mode !== "digest-only" && mode !== "tag-only") {
      throw this.fail("pull-from-mirror", `pull-from-mirror = "${mode}": expected "all", "digest-only" or "tag-only"`);
    }
    return { location, insecure: this.bool(m, "insecure") ?? false, pullFromMirror: mode };
  }

  /** v1: [registries.insecure] registries = [...], [registries.block] registries = [...]. */
  v1(registries: unknown): RegistryEntry[] {
    if (registries === undefined || typeof registries !== "object" || registries === null) return [];
    const r = registries as Record<string, { registries?: unknown } | undefined>;
    const list = (k: string): string[] => {
      const v = r[k]?.registries;
      if (v === undefined) return [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw this.fail(k, `[registries.${k}] registries must be a list of strings`);
      return v as string[];
    };
    const base = { insecure: false, blocked: false, mirrorByDigestOnly: false, mirrors: [], file: this.file };
    const out = new Map<string, RegistryEntry>();
    for (const host of list("insecure")) out.set(host, { ...base, prefix: host, location: host, insecure: true });
    for (const host of list("block")) out.set(host, { ...(out.get(host) ?? { ...base, prefix: host, location: host }), blocked: true });
    return [...out.values()];
  }

  private str(t: Record<string, unknown>, key: string): string | undefined {
    const v = t[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw this.fail(key, `${key} must be a string`);
    return v;
  }

  private bool(t: Record<string, unknown>, key: string): boolean | undefined {
    const v = t[key];
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") throw this.fail(key, `${key} must be true or false`);
    return v;
  }

  /** An error naming the file and the first line (from the current table on) that mentions `near`. */
  fail(near: string, message: string): CorruptInputError {
    const at = this.lines.findIndex((line, i) => i >= this.from && line.includes(near));
    const line = at >= 0 ? at + 1 : this.from > 0 ? this.from + 1 : 0;
    return new CorruptInputError(`${this.file}${line > 0 ? `:${line}` : ""}: ${message}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw describeFsError(err, path);
  }
}

async function confNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith(".conf") && basename(n) === n);
  } catch {
    return [];
  }
}
