// Podman >= 4.8's db.sql read into a LibpodState, read-only, through node:sqlite where Node has it
// (>= 22.5) or else the optional better-sqlite3 addon (SQLite itself, so podman's WAL journal and
// locks are honoured). Tables: DBConfig, ContainerConfig(ID, Name, PodID, JSON), VolumeConfig.
import { createRequire } from "node:module";
import { CorruptInputError, UnsupportedError } from "../../../src/errors.js";
import { isAnonymousVolume, parseContainerConfig, type LibpodContainerConfig, type LibpodState } from "./container-record.js";

type Row = Record<string, unknown>;

/** The little of a SQLite binding this reader needs. */
interface ReadOnlyDb {
  all(sql: string): Row[];
  close(): void;
}

/** How long SQLite waits for podman's write lock before giving up, as podman's own busy timeout. */
const BUSY_TIMEOUT_MS = 100_000;

const require = createRequire(import.meta.url);

function openWithNodeSqlite(path: string): ReadOnlyDb | undefined {
  let mod: { DatabaseSync: new (p: string, o: object) => { prepare(s: string): { all(): Row[] }; close(): void } };
  try {
    // node:sqlite exists from Node 22.5; on Node 20 the require fails and the addon is tried.
    mod = require("node:sqlite") as typeof mod;
  } catch {
    return undefined;
  }
  const db = new mod.DatabaseSync(path, { readOnly: true, timeout: BUSY_TIMEOUT_MS });
  return { all: (sql) => db.prepare(sql).all(), close: () => db.close() };
}

function openWithBetterSqlite(path: string): ReadOnlyDb | undefined {
  let Database: new (p: string, o: object) => { prepare(s: string): { all(): Row[] }; close(): void };
  try {
    Database = require("better-sqlite3") as typeof Database;
  } catch {
    return undefined;
  }
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  return { all: (sql) => db.prepare(sql).all(), close: () => db.close() };
}

/** Which SQLite binding is available ("node:sqlite", "better-sqlite3"), or undefined. */
export function sqliteBinding(): string | undefined {
  try {
    // Loaded, not resolved: Node 22.5-22.12 knows the name but refuses it without --experimental-sqlite.
    require("node:sqlite");
    return "node:sqlite";
  } catch {
    // Not in this Node: look for the addon.
  }
  try {
    require.resolve("better-sqlite3");
    return "better-sqlite3";
  } catch {
    return undefined;
  }
}

function openReadOnly(path: string): ReadOnlyDb {
  let db: ReadOnlyDb | undefined;
  try {
    db = openWithNodeSqlite(path) ?? openWithBetterSqlite(path);
  } catch (err) {
    throw new CorruptInputError(`${path}: cannot open the SQLite database: ${(err as Error).message}`, { cause: err });
  }
  if (!db) {
    throw new UnsupportedError(`${path}: reading podman's SQLite database needs Node >= 22.5 (node:sqlite) or the optional better-sqlite3 package (npm install better-sqlite3)`);
  }
  return db;
}

function text(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function readSqliteState(path: string): LibpodState {
  const db = openReadOnly(path);
  try {
    let configRows: Row[];
    let containerRows: Row[];
    try {
      configRows = db.all("SELECT GraphRoot, RunRoot, GraphDriver, StaticDir FROM DBConfig");
      containerRows = db.all("SELECT ID, JSON FROM ContainerConfig");
    } catch (err) {
      throw new CorruptInputError(`${path}: not a readable podman database: ${(err as Error).message}`, { cause: err });
    }
    const cfg = configRows[0];
    if (!cfg) throw new CorruptInputError(`${path}: podman database without a DBConfig row`);
    const runtime = { graphRoot: text(cfg.GraphRoot), runRoot: text(cfg.RunRoot), graphDriver: text(cfg.GraphDriver), staticDir: text(cfg.StaticDir) };
    const containers = new Map<string, LibpodContainerConfig>();
    for (const row of containerRows) {
      const id = text(row.ID);
      const json = text(row.JSON);
      if (id === undefined || json === undefined) throw new CorruptInputError(`${path}: a ContainerConfig row without ID or JSON`);
      containers.set(id, parseContainerConfig(json, `${path}: container ${id}`));
    }
    const volumes = new Set<string>();
    const anonymousVolumes = new Set<string>();
    let volumeRows: Row[] = [];
    try {
      volumeRows = db.all("SELECT Name, JSON FROM VolumeConfig");
    } catch {
      // A database without volumes' table (hand-made, or an old schema) has no anonymous volumes.
    }
    for (const row of volumeRows) {
      const name = text(row.Name);
      if (name === undefined) continue;
      volumes.add(name);
      if (isAnonymousVolume(text(row.JSON) ?? "")) anonymousVolumes.add(name);
    }
    return { path, backend: "sqlite", runtime, containers, volumes, anonymousVolumes };
  } finally {
    db.close();
  }
}
