// storage.conf: finding it (root and rootless lookup order) and reading the few keys a reader
// needs with a minimal TOML reader (tables, strings, booleans, numbers, string arrays).
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { CorruptInputError, describeFsError } from "../../../src/errors.js";

/** What storage.conf says about where a store is. Absent keys stay undefined. */
export interface StorageConf {
  /** The file these came from. */
  path: string;
  driver?: string;
  graphRoot?: string;
  runRoot?: string;
  imageStore?: string;
  transientStore?: boolean;
  additionalImageStores?: string[];
  /** `rootless_storage_path`: the graph root of a rootless user reading the system file. */
  rootlessStoragePath?: string;
}

type TomlValue = string | number | boolean | TomlValue[];
export type TomlTables = Map<string, Map<string, TomlValue>>;

/** Candidate storage.conf paths, most specific first (containers-storage.conf(5)). */
export function storageConfCandidates(env: NodeJS.ProcessEnv, rootless: boolean): { user: string[]; system: string[] } {
  const system = ["/etc/containers/storage.conf", "/usr/share/containers/storage.conf"];
  if (!rootless) return { user: [], system };
  const home = env.HOME || homedir();
  const user = [env.XDG_CONFIG_HOME ? join(env.XDG_CONFIG_HOME, "containers/storage.conf") : undefined, join(home, ".config/containers/storage.conf")];
  return { user: user.filter((p): p is string => p !== undefined), system };
}

/**
 * The storage.conf in effect: $CONTAINERS_STORAGE_CONF, else the first file that exists of the
 * lookup order. `fromSystem` is true when a rootless user fell back to the system file.
 */
export async function loadStorageConf(
  env: NodeJS.ProcessEnv,
  rootless: boolean,
  warn: (m: string) => void,
): Promise<{ conf: StorageConf; fromSystem: boolean } | undefined> {
  const explicit = env.CONTAINERS_STORAGE_CONF;
  if (explicit) {
    const conf = await readStorageConf(explicit);
    if (conf) return { conf, fromSystem: false };
    warn(`CONTAINERS_STORAGE_CONF=${explicit}: no such file; using the default storage.conf lookup`);
  }
  const { user, system } = storageConfCandidates(env, rootless);
  for (const path of user) {
    const conf = await readStorageConf(path);
    if (conf) return { conf, fromSystem: false };
  }
  for (const path of system) {
    const conf = await readStorageConf(path);
    if (conf) return { conf, fromSystem: rootless };
  }
  return undefined;
}

/** Reads one storage.conf; undefined when it does not exist. */
export async function readStorageConf(path: string): Promise<StorageConf | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw describeFsError(err, `storage.conf ${path}`);
  }
  let tables: TomlTables;
  try {
    tables = parseToml(text);
  } catch (err) {
    throw new CorruptInputError(`storage.conf ${path}: ${(err as Error).message}`, { cause: err });
  }
  const storage = tables.get("storage") ?? new Map<string, TomlValue>();
  const options = tables.get("storage.options") ?? new Map<string, TomlValue>();
  return {
    path,
    driver: str(storage.get("driver")),
    graphRoot: str(storage.get("graphroot")),
    runRoot: str(storage.get("runroot")),
    imageStore: str(storage.get("imagestore")),
    transientStore: typeof storage.get("transient_store") === "boolean" ? (storage.get("transient_store") as boolean) : undefined,
    additionalImageStores: strArray(options.get("additionalimagestores")),
    rootlessStoragePath: str(storage.get("rootless_storage_path")),
  };
}

function str(v: TomlValue | undefined): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function strArray(v: TomlValue | undefined): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.filter((x): x is string => typeof x === "string" && x !== "");
}

/**
 * A minimal TOML reader: `[table]` headers, `key = value` with basic/literal strings, booleans,
 * integers and (possibly multi-line) arrays. Other values are skipped; a line that is neither a
 * header nor `key = value` is an error.
 */
export function parseToml(text: string): TomlTables {
  const tables: TomlTables = new Map([["", new Map()]]);
  let current = tables.get("")!;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = stripComment(lines[i]!).trim();
    if (line === "") continue;
    const header = /^\[\s*([^\][]+?)\s*\]$/.exec(line);
    if (header) {
      const name = header[1]!.split(".").map((p) => unquoteKey(p.trim())).join(".");
      current = tables.get(name) ?? new Map();
      tables.set(name, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`line ${i + 1}: expected key = value`);
    const key = unquoteKey(line.slice(0, eq).trim());
    let valueText = line.slice(eq + 1).trim();
    const startLine = i;
    // A multi-line array continues until its brackets balance.
    while (valueText.startsWith("[") && !bracketsBalanced(valueText)) {
      i++;
      if (i >= lines.length) throw new Error(`line ${startLine + 1}: unterminated array`);
      line = stripComment(lines[i]!).trim();
      valueText += " " + line;
    }
    // Values this reader does not model (inline tables, floats, dates) belong to keys it never reads.
    try {
      current.set(key, parseValue(valueText, startLine + 1));
    } catch {
      current.delete(key);
    }
  }
  return tables;
}

function unquoteKey(k: string): string {
  if ((k.startsWith('"') && k.endsWith('"')) || (k.startsWith("'") && k.endsWith("'"))) return k.slice(1, -1);
  return k;
}

/** Removes a `#` comment that is not inside a string. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}

function bracketsBalanced(text: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "[") depth++;
    else if (c === "]") depth--;
  }
  return depth === 0;
}

function parseValue(text: string, lineNo: number): TomlValue {
  const [value, rest] = parseValueAt(text, 0, lineNo);
  if (text.slice(rest).trim() !== "") throw new Error(`line ${lineNo}: unexpected text after value`);
  return value;
}

function parseValueAt(text: string, pos: number, lineNo: number): [TomlValue, number] {
  while (/\s/.test(text[pos] ?? "")) pos++;
  const c = text[pos];
  if (c === '"') {
    let out = "";
    for (let i = pos + 1; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '"') return [out, i + 1];
      if (ch === "\\") {
        const esc = text[++i];
        const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", b: "\b", f: "\f" };
        if (esc === "u" || esc === "U") {
          const len = esc === "u" ? 4 : 8;
          out += String.fromCodePoint(parseInt(text.slice(i + 1, i + 1 + len), 16));
          i += len;
        } else if (esc !== undefined && map[esc] !== undefined) out += map[esc];
        else throw new Error(`line ${lineNo}: bad escape in string`);
      } else out += ch;
    }
    throw new Error(`line ${lineNo}: unterminated string`);
  }
  if (c === "'") {
    const end = text.indexOf("'", pos + 1);
    if (end < 0) throw new Error(`line ${lineNo}: unterminated string`);
    return [text.slice(pos + 1, end), end + 1];
  }
  if (c === "[") {
    const items: TomlValue[] = [];
    pos++;
    while (true) {
      while (/[\s,]/.test(text[pos] ?? "")) pos++;
      if (text[pos] === "]") return [items, pos + 1];
      if (pos >= text.length) throw new Error(`line ${lineNo}: unterminated array`);
      const [item, next] = parseValueAt(text, pos, lineNo);
      items.push(item);
      pos = next;
    }
  }
  const m = /^(true|false|[+-]?\d[\d_]*)/.exec(text.slice(pos));
  if (!m) throw new Error(`line ${lineNo}: unsupported value ${JSON.stringify(text.slice(pos, pos + 20))}`);
  const word = m[1]!;
  const value: TomlValue = word === "true" ? true : word === "false" ? false : Number(word.replace(/_/g, ""));
  return [value, pos + word.length];
}
