// Finds the libpod database of a store (podman 4: libpod/bolt_state.db; podman >= 4.8: db.sql at
// the graph root), reads it read-only and trusts it only when it names the same graph root and
// driver as the store. No database: not a podman store, undefined.
import { realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { isImgcopyError } from "../../../src/errors.js";
import type { SystemContext } from "../../../src/types.js";
import type { StoreLocation } from "../store/record-types.js";
import { readBoltState } from "./bolt-state.js";
import type { LibpodState } from "./container-record.js";
import { withSharedFlock } from "./db-lock.js";
import { readSqliteState } from "./sqlite-state.js";

/** Where podman keeps its database for a store, in the order podman picks them (bolt when it exists). */
export function libpodDatabasePaths(location: StoreLocation): { bolt: string; sqlite: string } {
  return { bolt: join(location.graphRoot, "libpod", "bolt_state.db"), sqlite: join(location.graphRoot, "db.sql") };
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
 * The store's libpod state, or undefined when the store has none (or one that belongs to another
 * store, or SQLite cannot be read here: then with a warning). A corrupt database is an error.
 */
export async function readLibpodState(location: StoreLocation, ctx: SystemContext): Promise<LibpodState | undefined> {
  const warn = ctx.warn ?? (() => {});
  const paths = libpodDatabasePaths(location);
  let state: LibpodState;
  if (await isFile(paths.bolt)) {
    state = await withSharedFlock(paths.bolt, ctx, () => readBoltState(paths.bolt));
  } else if (await isFile(paths.sqlite)) {
    try {
      state = readSqliteState(paths.sqlite);
    } catch (err) {
      if (isImgcopyError(err) && err.code === "EUNSUPPORTED") {
        warn(`${err.message}; podman containers' own settings are not applied`);
        return undefined;
      }
      throw err;
    }
  } else {
    return undefined;
  }
  const { graphRoot, graphDriver } = state.runtime;
  const rootMatches = graphRoot === undefined || graphRoot === "" || (await samePath(graphRoot, location.graphRoot));
  const driverMatches = graphDriver === undefined || graphDriver === "" || graphDriver === location.driver;
  if (!rootMatches || !driverMatches) {
    warn(`${state.path} describes the store ${graphDriver || "?"}@${graphRoot || "?"}, not ${location.driver}@${location.graphRoot}: its container records are not used`);
    return undefined;
  }
  return state;
}
