// How to enter the user's namespace from here: util-linux `unshare` with podman's id maps (2.38
// spells a range `outer,inner,count`, 2.39+ `inner:outer:count`, several ranges only from 2.40),
// else `buildah unshare`; when neither can, or the user has no subordinate ids or no
// newuidmap/newgidmap, one line saying what to install or configure.
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { UnsupportedError } from "../errors.js";
import { namespaceMap, readSubordinateRanges, type NamespaceIdRange } from "./subordinate-ids.js";

const execFileP = promisify(execFile);

export interface EntryPlanInput {
  /** The user's host ids and name (the name may be unknown: ranges are then looked up by id only). */
  uid: number;
  gid: number;
  userName: string | undefined;
  /** What needs the namespace, for error messages ("container-copy store overlay@/home/u/..."). */
  what: string;
  /** The command line to run inside: [executable, ...args]. */
  target: readonly string[];
  /** PATH to search for unshare, buildah, newuidmap and newgidmap. */
  path: string;
  subuidFile?: string;
  subgidFile?: string;
  /** `unshare --version`'s output; default: asks the unshare found on `path`. */
  unshareVersionText?: string;
}

export interface EntryPlan {
  tool: "unshare" | "buildah";
  command: string;
  args: string[];
  uidMap: NamespaceIdRange[];
  gidMap: NamespaceIdRange[];
}

export interface UtilLinuxVersion {
  major: number;
  minor: number;
}

/** "unshare from util-linux 2.38.1" -> 2.38; undefined when the text names no version. */
export function parseUtilLinuxVersion(text: string): UtilLinuxVersion | undefined {
  const m = /util-linux\s+(\d+)\.(\d+)/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

function atLeast(v: UtilLinuxVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/**
 * `--map-users=`/`--map-groups=` arguments for the ranges after container 0 (which `--map-root-user`
 * maps); undefined when this util-linux cannot express them.
 */
export function unshareMapArgs(version: UtilLinuxVersion, flag: "--map-users" | "--map-groups", map: readonly NamespaceIdRange[]): string[] | undefined {
  const ranges = map.filter((r) => r.inner !== 0);
  if (!atLeast(version, 2, 38)) return undefined;
  if (ranges.length > 1 && !atLeast(version, 2, 40)) return undefined;
  const colonForm = atLeast(version, 2, 39);
  return ranges.map((r) => (colonForm ? `${flag}=${r.inner}:${r.outer}:${r.count}` : `${flag}=${r.outer},${r.inner},${r.count}`));
}

/** The executable's path on `path`, or undefined. */
export function findExecutable(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function unshareVersion(unshare: string, known: string | undefined): Promise<UtilLinuxVersion | undefined> {
  if (known !== undefined) return parseUtilLinuxVersion(known);
  try {
    const { stdout } = await execFileP(unshare, ["--version"], { encoding: "utf8" });
    return parseUtilLinuxVersion(stdout);
  } catch {
    return undefined;
  }
}

/** Decides how to enter the namespace, or throws an UnsupportedError whose one line says what is missing. */
export async function planNamespaceEntry(input: EntryPlanInput): Promise<EntryPlan> {
  const subuidFile = input.subuidFile ?? "/etc/subuid";
  const subgidFile = input.subgidFile ?? "/etc/subgid";
  const who = input.userName !== undefined ? `user "${input.userName}" (uid ${input.uid})` : `uid ${input.uid}`;
  const fail = (why: string): UnsupportedError => new UnsupportedError(`cannot enter the user namespace to read ${input.what}: ${why}`);
  const owner = { name: input.userName, id: input.uid };
  const uidRanges = await readSubordinateRanges(subuidFile, owner);
  const gidRanges = await readSubordinateRanges(subgidFile, { name: input.userName, id: input.uid });
  const example = `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${input.userName ?? input.uid}`;
  if (uidRanges.length === 0) throw fail(`${who} has no subordinate uid range in ${subuidFile}; as root, add one: ${example}`);
  if (gidRanges.length === 0) throw fail(`${who} has no subordinate gid range in ${subgidFile}; as root, add one: ${example}`);
  if (!findExecutable("newuidmap", input.path) || !findExecutable("newgidmap", input.path)) {
    throw fail("newuidmap/newgidmap are not installed; install them (apt-get install uidmap)");
  }
  const uidMap = namespaceMap(input.uid, uidRanges);
  const gidMap = namespaceMap(input.gid, gidRanges);

  const unshare = findExecutable("unshare", input.path);
  const version = unshare ? await unshareVersion(unshare, input.unshareVersionText) : undefined;
  if (unshare && version) {
    const users = unshareMapArgs(version, "--map-users", uidMap);
    const groups = unshareMapArgs(version, "--map-groups", gidMap);
    if (users && groups) {
      return { tool: "unshare", command: unshare, args: ["--map-root-user", ...users, ...groups, "--", ...input.target], uidMap, gidMap };
    }
  }
  // buildah makes the same map itself (newuidmap/newgidmap with every range) and writes nothing to a store.
  const buildah = findExecutable("buildah", input.path);
  if (buildah) return { tool: "buildah", command: buildah, args: ["unshare", "--", ...input.target], uidMap, gidMap };
  const have = unshare ? `util-linux unshare ${version ? `${version.major}.${version.minor}` : "(unknown version)"}` : "no util-linux unshare";
  throw fail(
    `${have} cannot map ${uidMap.length - 1} subordinate range(s) (--map-users needs util-linux >= 2.38, several ranges >= 2.40) and buildah is not installed; install buildah or a newer util-linux`,
  );
}
