// What TAB offers: the verbs, the flags of the verb being typed, a flag's values, transport names
// ("oci:") where an image reference goes (after `list`: only transports that can list), and paths
// after a path transport ("oci:./la" -> "oci:./layout/"). An empty answer lets the shell complete file names.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { scanArgs } from "./argv-scan.js";
import { COMPLETION_SHELLS, VERBS, VERB_POSITIONALS, optionsOf } from "./command-table.js";

// Values worth offering for flags whose values yargs does not restrict.
const FLAG_VALUES: Record<string, readonly string[]> = {
  "dest-compress-format": ["gzip", "zstd"],
  "storage-driver": ["overlay", "vfs"],
};

/** Transports whose reference starts with a path: a folder (oci:, dir:) or a file (docker-archive:). */
const PATH_TRANSPORTS: Record<string, "folders" | "files"> = { oci: "folders", dir: "folders", "docker-archive": "files" };

/** The transport names to offer: all of them, or (for `list`) those that can list a location. */
export type TransportNames = (pluginPaths: string[], purpose: "reference" | "list") => Promise<string[]>;

/**
 * The candidates for the last of `words` (the words after the program name; the last one is being
 * typed, "" when nothing is yet).
 */
export async function completionCandidates(words: readonly string[], transports: TransportNames): Promise<string[]> {
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
  if (position >= VERB_POSITIONALS[before.verb]) return [];
  if (current.includes(":")) return before.verb === "list" ? [] : pathCandidates(current);
  const purpose = before.verb === "list" ? "list" : "reference";
  const refs = (await transports(before.values.get("plugin") ?? [], purpose)).map((name) => `${name}:`);
  if (!before.explicitVerb && position === 0) return match([...VERBS, ...refs]);
  return match(refs);
}

/** "oci:./la" -> ["oci:./layout/"]: the entries of the folder typed so far (hidden ones only when asked). */
function pathCandidates(current: string): string[] {
  const colon = current.indexOf(":");
  const transport = current.slice(0, colon);
  const typed = current.slice(colon + 1);
  const kind = PATH_TRANSPORTS[transport];
  if (!kind || typed.includes(":")) return []; // another transport, or past the path (":REF")
  const slash = typed.lastIndexOf("/");
  const folder = typed.slice(0, slash + 1);
  const prefix = typed.slice(slash + 1);
  let entries;
  try {
    entries = readdirSync(folder === "" ? "." : folder, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (!e.name.startsWith(prefix) || (e.name.startsWith(".") && !prefix.startsWith("."))) continue;
    const isFolder = e.isDirectory() || (e.isSymbolicLink() && isFolderPath(join(folder || ".", e.name)));
    if (isFolder) out.push(`${transport}:${folder}${e.name}/`);
    else if (kind === "files") out.push(`${transport}:${folder}${e.name}`);
  }
  return out.sort();
}

function isFolderPath(path: string): boolean {
  try {
    readdirSync(path);
    return true;
  } catch {
    return false;
  }
}
