// Reading and validating one plugin.json: cheap (one sync read, no import), and every refusal is
// one PluginRefusal line naming the file and the field.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import apiVersion from "../api-version.cjs";
import { PluginError } from "../errors.js";
import { isSemverRange, isSemverVersion, satisfiesRange } from "./semver-checks.js";

/**
 * Why a plugin was refused (malformed plugin.json, API range, a taken transport name). The message
 * names the plugin or its file; `reason` is the same cause without that prefix, for warnings.
 */
export class PluginRefusal extends PluginError {
  readonly reason: string;
  readonly manifestPath: string;
  constructor(message: string, reason: string, manifestPath: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
    this.manifestPath = manifestPath;
  }
}

/** A refusal of the plugin.json at `path`, whose message starts "plugin manifest PATH: ". */
function manifestRefusal(path: string, reason: string, options?: { cause?: unknown }): PluginRefusal {
  return new PluginRefusal(`plugin manifest ${path}: ${reason}`, reason, path, options);
}

/** One transport a plugin declares; `modulePath` is absolute (resolved beside the plugin.json). */
export interface PluginTransportDeclaration {
  name: string;
  module: string;
  modulePath: string;
  description: string;
}

export interface PluginManifest {
  name: string;
  version: string;
  imgcopyApi: string;
  transports: PluginTransportDeclaration[];
  /** Absolute path of the plugin.json this came from. */
  manifestPath: string;
}

// Same rule as the registry's, checked here so that the message can name the field.
const TRANSPORT_NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;

/** Reads and validates `manifestPath` (a plugin.json); throws PluginError naming the file and field. */
export function readPluginManifest(manifestPath: string): PluginManifest {
  const path = resolve(manifestPath);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (code ?? String(err));
    throw manifestRefusal(path, `cannot read it: ${why}`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw manifestRefusal(path, `not valid JSON: ${(err as Error).message.replace(/\s*\n\s*/g, " ").trim()}`, { cause: err });
  }
  return validateManifest(data, path);
}

function validateManifest(data: unknown, path: string): PluginManifest {
  const bad = (field: string, problem: string): PluginError => manifestRefusal(path, `field "${field}" ${problem}`);
  if (!isRecord(data)) throw manifestRefusal(path, "expected a JSON object");

  const name = requireString(data, "name", "name", bad);
  const version = requireString(data, "version", "version", bad);
  if (!isSemverVersion(version)) throw bad("version", `is ${JSON.stringify(version)}, not a semver version (e.g. "1.2.0")`);
  const imgcopyApi = requireString(data, "imgcopyApi", "imgcopyApi", bad);
  if (!isSemverRange(imgcopyApi)) throw bad("imgcopyApi", `is ${JSON.stringify(imgcopyApi)}, not a semver range (e.g. "^1.0.0")`);

  const list = data.transports;
  if (list === undefined) throw bad("transports", "is missing");
  if (!Array.isArray(list) || list.length === 0) throw bad("transports", "must be a non-empty array");
  const transports = list.map((entry: unknown, i): PluginTransportDeclaration => {
    const at = `transports[${i}]`;
    if (!isRecord(entry)) throw bad(at, "must be an object with name, module and description");
    const tname = requireString(entry, "name", `${at}.name`, bad);
    if (!TRANSPORT_NAME_RE.test(tname)) {
      throw bad(`${at}.name`, `is ${JSON.stringify(tname)}, not a transport name (lowercase letters, digits, ".", "_", "-")`);
    }
    const module = requireString(entry, "module", `${at}.module`, bad);
    const description = requireString(entry, "description", `${at}.description`, bad, true);
    return { name: tname, module, modulePath: resolve(dirname(path), module), description };
  });
  return { name, version, imgcopyApi, transports, manifestPath: path };
}

function requireString(
  obj: Record<string, unknown>,
  key: string,
  field: string,
  bad: (field: string, problem: string) => PluginError,
  allowEmpty = false,
): string {
  const value = obj[key];
  if (value === undefined) throw bad(field, "is missing");
  if (typeof value !== "string") throw bad(field, `must be a string, not ${describeType(value)}`);
  if (!allowEmpty && value.trim() === "") throw bad(field, "must not be empty");
  return value;
}

/**
 * Refuses a plugin whose API range does not include the host's API version.
 * includePrerelease stays off on purpose: a prerelease host API (e.g. 2.0.0-rc.1) then satisfies only
 * ranges that name a prerelease of that same version (">=2.0.0-rc.0"), so an unstable API is opt-in
 * and a plugin written for "^1.0.0" or ">=1" is never handed a prerelease host it did not ask for.
 */
export function checkApiCompatibility(manifest: PluginManifest, hostVersion = apiVersion.IMGCOPY_API_VERSION): void {
  if (!satisfiesRange(hostVersion, manifest.imgcopyApi)) {
    const reason =
      `requires imgcopy plugin API "${manifest.imgcopyApi}", but this imgcopy provides API ${hostVersion}; ` +
      `use a version of the plugin made for API ${hostVersion}`;
    throw new PluginRefusal(`${pluginLabel(manifest)} ${reason}`, reason, manifest.manifestPath);
  }
}

/** "plugin NAME@VERSION (PATH)", as messages name a plugin. */
export function pluginLabel(manifest: Pick<PluginManifest, "name" | "version" | "manifestPath">): string {
  return `plugin ${manifest.name}@${manifest.version} (${manifest.manifestPath})`;
}

/** The transport names a plugin.json lists, read leniently (for naming what a refused plugin would have provided). */
export function declaredTransportNames(manifestPath: string): string[] {
  try {
    const data: unknown = JSON.parse(readFileSync(manifestPath, "utf8"));
    const list = isRecord(data) && Array.isArray(data.transports) ? (data.transports as unknown[]) : [];
    return list.flatMap((t) => (isRecord(t) && typeof t.name === "string" && t.name !== "" ? [t.name] : []));
  } catch {
    return []; // unreadable or not JSON: it names no transport
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}
