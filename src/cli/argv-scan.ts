// A first look at the command line, before yargs: which verb it names, its arguments, and any flag
// that verb does not take. yargs alone lets an unknown flag swallow the next argument ("--bogus
// oci:a dir:b" becomes "not enough arguments"), and completion needs the same reading.
import { allOptions, isVerb, optionsOf, type OptionSpec, type Verb } from "./command-table.js";

export interface ScannedArgs {
  verb: Verb;
  /** The verb was written out (else it is the default command, copy). */
  explicitVerb: boolean;
  /** Arguments that are not flags or flag values, without the verb. */
  positionals: string[];
  /** The first flag the verb does not take, as written ("--bogus", "-x"). */
  unknown: string | undefined;
  /** The last word is a flag still waiting for its value. */
  awaiting: OptionSpec | undefined;
  /** Values given to flags, by the flag's name. */
  values: Map<string, string[]>;
  /** The first flag that takes a value but was given none (followed by another flag, or last), as written. */
  missingValue: string | undefined;
}

interface SeenOption {
  token: string;
  name: string;
  short: boolean;
}

export function scanArgs(args: readonly string[]): ScannedArgs {
  const all = allOptions();
  const seen: SeenOption[] = [];
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  let awaiting: OptionSpec | undefined;
  let missingValue: string | undefined;
  const takeValue = (spec: OptionSpec | undefined, i: number, token: string): number => {
    awaiting = undefined;
    if (!spec) return i;
    const next = args[i];
    if (next === undefined) {
      if (spec.takesValue) awaiting = spec;
      if (spec.takesValue) missingValue ??= token;
      return i;
    }
    // As yargs reads it: a value flag takes the next word unless it looks like a flag (or is "-"); a boolean only "true"/"false".
    const valueLike = spec.takesValue ? !isOptionToken(next) && next !== "-" : next === "true" || next === "false";
    if (!valueLike && spec.takesValue && isOptionToken(next)) missingValue ??= token;
    if (!valueLike) return i;
    addValue(values, spec.name, next);
    return i + 1;
  };

  for (let i = 0; i < args.length; ) {
    const token = args[i++]!;
    awaiting = undefined;
    if (token === "--") {
      positionals.push(...args.slice(i));
      break;
    }
    if (!isOptionToken(token)) {
      positionals.push(token);
      continue;
    }
    if (token.startsWith("--")) {
      const eq = token.indexOf("=");
      const name = token.slice(2, eq < 0 ? undefined : eq);
      seen.push({ token: eq < 0 ? token : token.slice(0, eq), name, short: false });
      const spec = findLong(all, name);
      if (eq >= 0) {
        if (spec) addValue(values, spec.name, token.slice(eq + 1));
      } else if (spec && !name.startsWith("no-")) {
        i = takeValue(spec, i, token);
      }
      continue;
    }
    const letters = token.slice(1);
    for (let k = 0; k < letters.length; k++) {
      const c = letters[k]!;
      seen.push({ token: `-${c}`, name: c, short: true });
      const spec = findShort(all, c);
      if (!spec?.takesValue) continue;
      if (k < letters.length - 1) addValue(values, spec.name, letters.slice(k + 1));
      else i = takeValue(spec, i, `-${c}`);
      break;
    }
  }

  const first = positionals[0];
  const explicitVerb = first !== undefined && isVerb(first);
  const verb: Verb = explicitVerb ? (first as Verb) : "copy";
  if (explicitVerb) positionals.shift();
  const mine = optionsOf(verb);
  const unknown = seen.find((o) => !(o.short ? findShort(mine, o.name) : findLong(mine, o.name)))?.token;
  return { verb, explicitVerb, positionals, unknown, awaiting, values, missingValue };
}

/** A flag, not a value: "-x", "--x"; a lone "-" (stdin) and negative numbers are values. */
export function isOptionToken(token: string): boolean {
  return token.length > 1 && token.startsWith("-") && !/^-\d/.test(token);
}

/** The flag called `name` (its name, a long alias, its camelCase spelling or "no-" before a boolean). */
export function findLong(specs: readonly OptionSpec[], name: string): OptionSpec | undefined {
  const kebab = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const direct = specs.find((s) => s.name === kebab || s.longAliases.includes(kebab));
  if (direct) return direct;
  if (!kebab.startsWith("no-")) return undefined;
  const negated = findLong(specs, kebab.slice(3));
  return negated?.boolean ? negated : undefined;
}

export function findShort(specs: readonly OptionSpec[], letter: string): OptionSpec | undefined {
  return specs.find((s) => s.shorts.includes(letter));
}

function addValue(values: Map<string, string[]>, name: string, value: string): void {
  const list = values.get(name);
  if (list) list.push(value);
  else values.set(name, [value]);
}
