// Dockerfile-style config changes, as `podman commit --change` / `buildah commit --change` take
// them: "ENV A=b", "CMD [\"sh\"]", "LABEL k=v", "EXPOSE 80/udp", ... (INSTRUCTION VALUE or INSTRUCTION=VALUE).
import { posix } from "node:path";
import { UsageError } from "../../src/errors.js";

/** The runtime part (`config`) of an image config; Docker and OCI spell these the same. */
export interface RuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  [key: string]: unknown;
}

const INSTRUCTIONS = ["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];

/** Applies each change in order to `config` (modified in place). */
export function applyConfigChanges(config: RuntimeConfig, changes: readonly string[], warn: (m: string) => void): void {
  for (const change of changes) applyChange(config, change, warn);
}

function applyChange(config: RuntimeConfig, change: string, warn: (m: string) => void): void {
  const m = /^\s*([A-Za-z]+)(?:(?:\s+|=)([\s\S]*))?$/.exec(change);
  const instruction = m?.[1]?.toUpperCase();
  const value = m?.[2]?.trim() ?? "";
  if (!instruction || !INSTRUCTIONS.includes(instruction)) {
    const word = /^\s*(\S*)/.exec(change)?.[1] ?? "";
    throw new UsageError(`change ${JSON.stringify(change)}: unknown instruction "${word}" (supported: ${INSTRUCTIONS.join(", ")})`);
  }
  const bad = (why: string): UsageError => new UsageError(`change ${JSON.stringify(change)}: ${why}`);
  if (value === "" && instruction !== "CMD" && instruction !== "ENTRYPOINT") throw bad(`${instruction} needs a value`);
  switch (instruction) {
    case "CMD":
      config.Cmd = commandForm(value, bad);
      break;
    case "ENTRYPOINT":
      config.Entrypoint = commandForm(value, bad);
      break;
    case "ENV":
      for (const [k, v] of keyValues(value, bad)) setEnv(config, k, v);
      break;
    case "LABEL":
      config.Labels ??= {};
      for (const [k, v] of keyValues(value, bad)) config.Labels[k] = v;
      break;
    case "EXPOSE":
      config.ExposedPorts ??= {};
      for (const port of splitWords(value, bad)) for (const p of exposedPorts(port, bad)) config.ExposedPorts[p] = {};
      break;
    case "VOLUME":
      config.Volumes ??= {};
      for (const v of jsonArray(value) ?? splitWords(value, bad)) config.Volumes[v] = {};
      break;
    case "WORKDIR": {
      const dir = splitWords(value, bad).join(" ");
      config.WorkingDir = posix.resolve("/", config.WorkingDir || "/", dir);
      break;
    }
    case "USER":
      config.User = value;
      break;
    case "STOPSIGNAL":
      config.StopSignal = value;
      break;
    case "ONBUILD":
      // The OCI image config has no OnBuild field; podman ignores it for OCI images too.
      warn(`change ${JSON.stringify(change)}: ONBUILD is not supported in an OCI image config and is ignored`);
      break;
  }
}

/** JSON-array (exec) form, else the shell form run by /bin/sh -c; an empty value clears it. */
function commandForm(value: string, bad: (why: string) => UsageError): string[] | null {
  if (value === "") return null;
  const arr = jsonArray(value);
  if (arr) return arr;
  if (value.startsWith("[")) throw bad("a value starting with [ must be a JSON array of strings");
  return ["/bin/sh", "-c", value];
}

function jsonArray(value: string): string[] | undefined {
  if (!value.startsWith("[")) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) return parsed as string[];
  } catch {
    // Not JSON: the caller treats it as the shell form.
  }
  return undefined;
}

/** "A=1 B='two words'" or the legacy "KEY value with spaces". */
function keyValues(value: string, bad: (why: string) => UsageError): [string, string][] {
  const words = splitWords(value, bad);
  const first = words[0] ?? "";
  if (!first.includes("=")) {
    const rest = value.slice(value.search(/\s/) >= 0 ? value.search(/\s/) : value.length).trim();
    if (rest === "") throw bad(`"${first}" needs a value (KEY=VALUE or KEY VALUE)`);
    return [[first, splitWords(rest, bad).join(" ")]];
  }
  return words.map((w) => {
    const eq = w.indexOf("=");
    if (eq <= 0) throw bad(`"${w}" is not KEY=VALUE`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function setEnv(config: RuntimeConfig, key: string, value: string): void {
  const env = (config.Env ??= []);
  const entry = `${key}=${value}`;
  const i = env.findIndex((e) => e === key || e.startsWith(`${key}=`));
  if (i >= 0) env[i] = entry;
  else env.push(entry);
}

/** "80" -> ["80/tcp"], "53/udp", "8000-8002" -> three ports. */
function exposedPorts(text: string, bad: (why: string) => UsageError): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(text);
  if (!m) throw bad(`"${text}" is not a port (PORT[-PORT][/tcp|udp|sctp])`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  const proto = (m[3] ?? "tcp").toLowerCase();
  if (from > 65535 || to > 65535 || to < from) throw bad(`"${text}" is not a valid port range`);
  const out: string[] = [];
  for (let p = from; p <= to; p++) out.push(`${p}/${proto}`);
  return out;
}

/** Splits on whitespace, honouring "double" and 'single' quotes and backslash escapes. */
export function splitWords(text: string, bad: (why: string) => UsageError): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw bad(`unterminated ${quote} quote`);
  if (inWord) words.push(cur);
  return words;
}
