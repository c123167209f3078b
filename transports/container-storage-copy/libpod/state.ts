// Finds the libpod database of a store (podman 4: libpod/bolt_state.db; podman >= 4.8: db.sql at
// the graph root; containers.conf's static_dir and database_backend honoured), reads it read-only
// and trusts it only when it names the same graph root and driver as the store. No database: not a
// podman store, undefined.
import { realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { isImgcopyError } from "../../../src/errors.js";
import type { SystemContext } from "../../../src/types.js";
import type { StoreLocation } from "../store/record-types.js";
import { readBoltState } from "./bolt-state.js";
import { readEngineConf, type EngineConf } from "./containers-conf.js";
import type { LibpodState } from "./container-record.js";
import { withSharedFlock } from "./db-lock.js";
import { readSqliteState } from "./sqlite-state.js";

/** A database file and its kind. */
export interface DatabaseCandidate {
  backend: "boltdb" | "sqlite";
  path: string;
}

/**
 * Where podman may keep its database for a store, in the order podman picks them: the static dir
 * (containers.conf static_dir, else GRAPHROOT/libpod) holds bolt_state.db; db.sql is in static_dir
 * when set, else at the graph root; bolt wins when its file exists unless database_backend says
 * otherwise. containers.conf's static_dir may belong to another store, so the default places follow.
 */
export function libpodDatabaseCandidates(location: StoreLocation, engine: EngineConf): DatabaseCandidate[] {
  const defaults: DatabaseCandidate[] = [
    { backend: "boltdb", path: join(location.graphRoot, "libpod", "bolt_state.db") },
    { backend: "sqlite", path: join(location.graphRoot, "db.sql") },
  ];
  const configured: DatabaseCandidate[] = engine.staticDir
    ? [
        { backend: "boltdb", path: join(engine.staticDir, "bolt_state.db") },
        { backend: "sqlite", path: join(engine.staticDir, "db.sql") },
      ]
    : [];
  const all = [...configured, ...defaults].filter((c, i, list) => list.findIndex((o) => o.path === c.path) === i);
  const backend = engine.databaseBackend;
  return backend === "boltdb" || backend === "sqlite" ? all.filter((c) => c.backend === backend) : all;
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function samePath(a: string, b: string): Promise<boolean> {
  const canonical = async (p: string): Promise<string> => realpath(p).catch(() => p.replace(/\/+$/, ""));
  return (await canonical(a)) === (await canonical(b));
}

/**
 * The store's libpod state, or undefined when the store has none (or only ones that belong to
 * another store, or SQLite cannot be read here: then with a warning). A corrupt database is an error.
 * Podman run with --root keeps its database under the graph root even when containers.conf names a
 * static_dir, so a store can have two: their records are merged, the first place's winning.
 */
export async function readLibpodState(location: StoreLocation, ctx: SystemContext): Promise<LibpodState | undefined> {
  const warn = ctx.warn ?? (() => {});
  const env = ctx.env ?? process.env;
  // Inside a rootless user's namespace the uid is 0: podman's marker says whose it is.
  const rootless = process.getuid?.() !== 0 || !!env._CONTAINERS_ROOTLESS_UID;
  const engine = await readEngineConf(env, rootless, warn);
  const found: LibpodState[] = [];
  let mismatch: string | undefined;
  for (const candidate of libpodDatabaseCandidates(location, engine)) {
    if (!(await isFile(candidate.path))) continue;
    const state = await readCandidate(candidate, ctx);
    if (!state) continue;
    const { graphRoot, graphDriver } = state.runtime;
    const rootMatches = graphRoot === undefined || graphRoot === "" || (await samePath(graphRoot, location.graphRoot));
    const driverMatches = graphDriver === undefined || graphDriver === "" || graphDriver === location.driver;
    if (rootMatches && driverMatches) found.push(state);
    else mismatch ??= `${state.path} describes the store ${graphDriver || "?"}@${graphRoot || "?"}, not ${location.driver}@${location.graphRoot}: its container records are not used`;
  }
  if (found.length === 0 && mismatch) warn(mismatch);
  return merge(found);
}

function merge(states: LibpodState[]): LibpodState | undefined {
  const [first, ...rest] = states;
  if (!first || rest.length === 0) return first;
  const out: LibpodState = { ...first, containers: new Map(first.containers), volumes: new Set(first.volumes), anonymousVolumes: new Set(first.anonymousVolumes) };
  for (const s of rest) {
    for (const [id, c] of s.containers) if (!out.containers.has(id)) out.containers.set(id, c);
    for (const v of s.volumes) out.volumes.add(v);
    for (const v of s.anonymousVolumes) out.anonymousVolumes.add(v);
  }
  return out;
}

async function readCandidate(candidate: DatabaseCandidate, ctx: SystemContext): Promise<LibpodState | undefined> {
  if (candidate.backend === "boltdb") return withSharedFlock(candidate.path, ctx, () => readBoltState(candidate.path));
  try {
    return readSqliteState(candidate.path);
  } catch (err) {
    if (isImgcopyError(err) && err.code === "EUNSUPPORTED") {
      ctx.warn?.(`${err.message}; podman containers' own settings are not applied`);
      return undefined;
    }
    throw err;
  }
}
