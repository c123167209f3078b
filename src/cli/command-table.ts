// The verbs and the flags each takes, as data: the parser's builders, the unknown-option check and
// shell completion all read this one table, so they cannot disagree.
import type { Options } from "yargs";
import { COPY_OPTIONS } from "./commands/copy-options.js";
import { GLOBAL_OPTIONS } from "./global-options.js";
import { INSPECT_OPTIONS, LIST_OPTIONS, LIST_TAGS_OPTIONS, LOGIN_OPTIONS, LOGOUT_OPTIONS, TRANSPORTS_OPTIONS } from "./verb-options.js";

export type Verb = "copy" | "inspect" | "list" | "list-tags" | "login" | "logout" | "transports" | "completion";
export const VERBS: readonly Verb[] = ["copy", "inspect", "list", "list-tags", "login", "logout", "transports", "completion"];

/** The hidden flag the completion scripts call the command with (see completion-scripts.ts). */
export const COMPLETION_FLAG = "--get-yargs-completions";

/** What `imgcopy completion` takes besides the global flags. */
export const COMPLETION_SHELLS = ["bash", "zsh"] as const;

type OptionTable = Readonly<Record<string, Options>>;

// yargs' own flags, taken by every command.
const BUILTIN_OPTIONS: OptionTable = {
  help: { alias: "h", type: "boolean", describe: "show help" },
  version: { alias: "v", type: "boolean", describe: "show the version" },
};

const VERB_OPTIONS: Record<Verb, OptionTable> = {
  copy: COPY_OPTIONS,
  inspect: INSPECT_OPTIONS,
  list: LIST_OPTIONS,
  "list-tags": LIST_TAGS_OPTIONS,
  login: LOGIN_OPTIONS,
  logout: LOGOUT_OPTIONS,
  transports: TRANSPORTS_OPTIONS,
  completion: {},
};

/** How many SRC/DEST-like arguments each verb takes. */
export const VERB_POSITIONALS: Record<Verb, number> = { copy: 2, inspect: 1, list: 1, "list-tags": 1, login: 0, logout: 0, transports: 0, completion: 1 };

export function isVerb(word: string): word is Verb {
  return (VERBS as readonly string[]).includes(word);
}

/** A flag as the command line may spell it. */
export interface OptionSpec {
  name: string;
  /** Long spellings other than `name` (aliases of two letters or more). */
  longAliases: string[];
  /** One-letter aliases. */
  shorts: string[];
  takesValue: boolean;
  boolean: boolean;
  /** yargs' type: "boolean", "string", "number", or undefined (a value read as yargs guesses it, e.g. a choice). */
  type: "boolean" | "string" | "number" | undefined;
  /** Repeatable: each occurrence adds one value. */
  array: boolean;
  /** The value yargs gives when the flag is absent. */
  default: unknown;
  choices: readonly string[];
  hidden: boolean;
  describe: string;
}

/** The flags `verb` accepts: the global ones, yargs' help/version and its own. */
export function optionsOf(verb: Verb): OptionSpec[] {
  return [...specs(GLOBAL_OPTIONS), ...specs(BUILTIN_OPTIONS), ...specs(VERB_OPTIONS[verb])];
}

/** Every flag of every verb (to know which flags take a value before the verb is known). */
export function allOptions(): OptionSpec[] {
  return VERBS.flatMap((v) => optionsOf(v));
}

function specs(table: OptionTable): OptionSpec[] {
  return Object.entries(table).map(([name, o]) => {
    const aliases = o.alias === undefined ? [] : Array.isArray(o.alias) ? (o.alias as string[]) : [o.alias as string];
    const boolean = o.type === "boolean";
    return {
      name,
      longAliases: aliases.filter((a) => a.length > 1),
      shorts: aliases.filter((a) => a.length === 1),
      takesValue: !boolean,
      boolean,
      type: o.type === "boolean" || o.type === "string" || o.type === "number" ? o.type : undefined,
      array: o.array === true,
      default: o.default,
      choices: (o.choices as readonly string[] | undefined) ?? [],
      hidden: o.hidden === true,
      describe: typeof o.describe === "string" ? o.describe : "",
    };
  });
}
