// The quick path: a plain, well-formed command line of a common verb is read here, from the command
// table, into the arguments yargs would give, so that yargs (some 40-50 ms of start-up on a 2-core
// machine) loads only for help, completion scripts and anything out of the ordinary. Whatever this
// reader is not sure of (a usage error, "--no-FLAG", a number, a repeated flag, "--") goes to yargs,
// so every error message and every unusual spelling stays yargs' own.
import type { ScannedArgs } from "./argv-scan.js";
import { VERB_POSITIONALS, isVerb, optionsOf, type OptionSpec, type Verb } from "./command-table.js";
import type { ParsedArgs } from "./run-command.js";

/** The verbs read here, and the names of their positionals (as the parser's commands declare them). */
const POSITIONAL_NAMES: Partial<Record<Verb, readonly string[]>> = {
  copy: ["src", "dest"],
  inspect: ["ref"],
  list: ["location"],
  "list-tags": ["repository"],
  transports: [],
};

// Options that yargs handles itself (help and version output), or whose pair it checks (conflicts).
const YARGS_ONLY = new Set(["help", "version"]);
const CONFLICTING: ReadonlyArray<readonly [string, string]> = [["dest-compress", "dest-decompress"]];

export interface QuickCommand {
  verb: Verb;
  args: ParsedArgs;
}

/**
 * The verb and its arguments as yargs would parse them, or undefined when yargs must read this line.
 * `scanned` is scanArgs(argv), which found the verb and refused unknown flags already.
 */
export function quickArgs(argv: readonly string[], scanned: ScannedArgs): QuickCommand | undefined {
  const words: string[] = [];
  const given = new Map<OptionSpec, unknown>();
  const verb = scanned.verb;
  const names = POSITIONAL_NAMES[verb];
  if (names === undefined) return undefined;
  const specs = optionsOf(verb).filter((s) => !YARGS_ONLY.has(s.name));

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "" || token === "-" || token === "--") return undefined;
    if (!token.startsWith("-")) {
      words.push(token);
      continue;
    }
    const eq = token.indexOf("=");
    let spec: OptionSpec | undefined;
    if (token.startsWith("--")) {
      const name = token.slice(2, eq < 0 ? undefined : eq);
      if (name.startsWith("no-")) return undefined; // yargs reads "--no-x" as x = false, even where "no-x" is declared
      spec = specs.find((s) => s.name === name || s.longAliases.includes(name));
    } else if (token.length === 2) {
      spec = specs.find((s) => s.shorts.includes(token[1]!));
    }
    // Unknown, a camelCase or "no-" spelling, grouped short flags ("-qa"), or "-x=1": yargs decides.
    if (!spec || (eq >= 0 && !token.startsWith("--"))) return undefined;
    if (given.has(spec) && !spec.array) return undefined; // yargs turns a repeated flag into an array
    let value: unknown;
    if (spec.boolean) {
      const text = eq < 0 ? undefined : token.slice(eq + 1);
      if (text !== undefined && text !== "true" && text !== "false") return undefined;
      // "--flag true" (the value as the next word) is yargs' to read.
      const next = argv[i + 1];
      if (text === undefined && (next === "true" || next === "false")) return undefined;
      value = text === undefined ? true : text === "true";
    } else {
      const text = eq >= 0 ? token.slice(eq + 1) : argv[++i];
      if (text === undefined || text === "" || text.startsWith("-")) return undefined;
      // yargs reads numbers (and untyped values) its own way: NaN, hex, exponents.
      if (spec.type === "number") return undefined;
      if (spec.type !== "string" && !spec.choices.includes(text)) return undefined;
      value = spec.array ? [...((given.get(spec) as string[] | undefined) ?? []), text] : text;
    }
    given.set(spec, value);
  }

  if (scanned.explicitVerb) {
    if (words[0] !== verb) return undefined;
    words.shift();
  }
  if (words.length !== VERB_POSITIONALS[verb] || words.length !== names.length) return undefined;
  // A positional that yargs might read as a number or a verb: let it.
  if (words.some((w) => !/^[A-Za-z]/.test(w) || isVerb(w))) return undefined;
  const set = (s: string): boolean => [...given.keys()].some((k) => k.name === s);
  if (CONFLICTING.some(([a, b]) => set(a) && set(b))) return undefined;

  const args: ParsedArgs = { _: scanned.explicitVerb ? [verb] : [] };
  for (const spec of specs) {
    const value = given.has(spec) ? given.get(spec) : spec.default;
    if (value === undefined) continue;
    for (const key of [spec.name, ...spec.longAliases, ...spec.shorts]) {
      args[key] = value;
      args[camelCase(key)] = value;
    }
  }
  names.forEach((name, k) => (args[name] = words[k]));
  args.$0 = "imgcopy";
  return { verb, args };
}

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
