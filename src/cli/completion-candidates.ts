// What TAB offers: the verbs, the flags of the verb being typed, a flag's values, and transport
// names ("oci:") where an image reference goes. An empty answer lets the shell complete file names.
import { scanArgs } from "./argv-scan.js";
import { COMPLETION_SHELLS, VERBS, VERB_POSITIONALS, optionsOf } from "./command-table.js";

// Values worth offering for flags whose values yargs does not restrict.
const FLAG_VALUES: Record<string, readonly string[]> = {
  "dest-compress-format": ["gzip", "zstd"],
  "storage-driver": ["overlay", "vfs"],
};

/**
 * The candidates for the last of `words` (the words after the program name; the last one is being
 * typed, "" when nothing is yet). `transports(pluginPaths)` gives the transport names.
 */
export function completionCandidates(words: readonly string[], transports: (pluginPaths: string[]) => string[]): string[] {
  const current = words.at(-1) ?? "";
  const before = scanArgs(words.slice(0, -1));
  const match = (list: readonly string[]): string[] => list.filter((c) => c.startsWith(current));

  if (before.awaiting) {
    const spec = before.awaiting;
    return match(spec.choices.length > 0 ? spec.choices : (FLAG_VALUES[spec.name] ?? []));
  }
  if (current.startsWith("-")) {
    const flags = optionsOf(before.verb)
      .filter((s) => !s.hidden)
      .flatMap((s) => [`--${s.name}`, ...s.longAliases.map((a) => `--${a}`)]);
    return match([...new Set(flags)].sort());
  }
  const position = before.positionals.length;
  if (before.verb === "completion") return position === 0 ? match(COMPLETION_SHELLS) : [];
  if (position >= VERB_POSITIONALS[before.verb] || current.includes(":")) return []; // a path after "oci:": the shell's file names
  const refs = transports(before.values.get("plugin") ?? []).map((name) => `${name}:`);
  if (!before.explicitVerb && position === 0) return match([...VERBS, ...refs]);
  return match(refs);
}
