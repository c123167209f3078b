// Podman >= 4.8's db.sql: a database made with podman's schema (DBConfig, ContainerConfig,
// ContainerState, VolumeConfig) holding the container JSON the real podman 4.3 wrote into its
// bolt_state.db gives the same records, and the same image config, as the bolt file.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CorruptInputError } from "../../../../src/errors.js";
import { buildCommitConfig, type ImageConfig } from "../../../../transports/container-storage-copy/config.js";
import { readBoltState } from "../../../../transports/container-storage-copy/libpod/bolt-state.js";
import type { LibpodState } from "../../../../transports/container-storage-copy/libpod/container-record.js";
import { readSqliteState, sqliteBinding } from "../../../../transports/container-storage-copy/libpod/sqlite-state.js";
import { readLibpodState } from "../../../../transports/container-storage-copy/libpod/state.js";
import type { StoreLocation } from "../../../../transports/container-storage-copy/store/record-types.js";
import { tempDir } from "../../../helpers/tools.js";
import type { Store } from "../../../helpers/buildah-store.js";
import { BASE_IMAGE, BASE_IMAGE_CONFIG, FULL_OPTIONS, VOLUME_OPTIONS, boltPath, createPodmanStore, podmanCreate } from "./podman-store.js";

/** podman's SQLite schema (libpod/sqlite_state_internal.go), the tables the reader uses. */
const SCHEMA = `
CREATE TABLE DBConfig(ID INTEGER PRIMARY KEY NOT NULL, SchemaVersion INTEGER NOT NULL, OS TEXT NOT NULL,
  StaticDir TEXT NOT NULL, TmpDir TEXT NOT NULL, GraphRoot TEXT NOT NULL, RunRoot TEXT NOT NULL,
  GraphDriver TEXT NOT NULL, VolumeDir TEXT NOT NULL, CHECK (ID IN (1)));
CREATE TABLE ContainerConfig(ID TEXT PRIMARY KEY NOT NULL, Name TEXT UNIQUE NOT NULL, PodID TEXT, JSON TEXT NOT NULL);
CREATE TABLE ContainerState(ID TEXT PRIMARY KEY NOT NULL, State INTEGER NOT NULL, ExitCode INTEGER, JSON TEXT NOT NULL);
CREATE TABLE VolumeConfig(ID INTEGER PRIMARY KEY NOT NULL, Name TEXT UNIQUE NOT NULL, StorageID TEXT, JSON TEXT NOT NULL);
`;

interface Statement {
  run(...params: unknown[]): unknown;
}
interface WritableDb {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

/** The SQLite library the reader uses, opened read-write to build the test database. */
function openForWriting(path: string): WritableDb {
  const require = createRequire(import.meta.url);
  const binding = sqliteBinding();
  if (binding === "node:sqlite") {
    const { DatabaseSync } = require("node:sqlite") as { DatabaseSync: new (p: string) => WritableDb };
    return new DatabaseSync(path);
  }
  if (binding !== "better-sqlite3") throw new Error("this test needs node:sqlite (Node >= 22.5) or better-sqlite3 (npm ci installs it)");
  const Database = require("better-sqlite3") as new (p: string) => WritableDb;
  return new Database(path);
}

/** A db.sql at `graphRoot` with the records of `state` and DBConfig naming `graphRoot` and `driver`. */
async function writeSqliteDb(graphRoot: string, driver: string, state: LibpodState): Promise<string> {
  await mkdir(graphRoot, { recursive: true });
  const path = join(graphRoot, "db.sql");
  const db = openForWriting(path);
  try {
    db.exec("PRAGMA journal_mode=WAL;");
    db.exec(SCHEMA);
    db.prepare("INSERT INTO DBConfig VALUES (1, 1, 'linux', ?, '/tmp', ?, '/run', ?, ?)").run(join(graphRoot, "libpod"), graphRoot, driver, join(graphRoot, "volumes"));
    const ctr = db.prepare("INSERT INTO ContainerConfig (ID, Name, PodID, JSON) VALUES (?, ?, NULL, ?)");
    const st = db.prepare("INSERT INTO ContainerState (ID, State, ExitCode, JSON) VALUES (?, 1, 0, '{}')");
    for (const [id, c] of state.containers) {
      ctr.run(id, c.name ?? id, JSON.stringify(c));
      st.run(id);
    }
    const vol = db.prepare("INSERT INTO VolumeConfig (Name, StorageID, JSON) VALUES (?, NULL, ?)");
    for (const name of state.volumes) vol.run(name, JSON.stringify({ name, isAnon: state.anonymousVolumes.has(name) }));
  } finally {
    db.close();
  }
  return path;
}

function configFor(state: LibpodState, id: string, includeVolumes = false): ImageConfig {
  return buildCommitConfig({
    base: { architecture: "amd64", os: "linux", config: structuredClone(BASE_IMAGE_CONFIG), history: [{ created_by: "base" }] },
    buildah: { image: BASE_IMAGE },
    podman: { container: state.containers.get(id)!, volumes: state.volumes, anonymousVolumes: state.anonymousVolumes },
    diffIds: ["sha256:" + "1".repeat(64), "sha256:" + "2".repeat(64)],
    commit: { includeVolumes },
    created: new Date(0),
    warn: (m) => assert.fail(`unexpected warning: ${m}`),
  });
}

describe("libpod SQLite database (db.sql)", () => {
  let store: Store;
  let work: { path: string; cleanup: () => Promise<void> };
  let bolt: LibpodState;
  const ids: Record<string, string> = {};

  before(async () => {
    work = await tempDir("imgcopy-sqlite-");
    store = await createPodmanStore("vfs");
    ids.pc = await podmanCreate(store, "pc", FULL_OPTIONS, ["echo hi"]);
    ids.plain = await podmanCreate(store, "plain", []);
    ids.vol = await podmanCreate(store, "vol", VOLUME_OPTIONS);
    bolt = await readBoltState(boltPath(store));
  });
  after(async () => {
    await store?.cleanup();
    await work?.cleanup();
  });

  it("holds the same container records as the bolt file, and gives the same image config", async () => {
    const graphRoot = join(work.path, "same");
    const path = await writeSqliteDb(graphRoot, "vfs", bolt);
    const sqlite = readSqliteState(path);
    assert.equal(sqlite.backend, "sqlite");
    assert.deepEqual(sqlite.runtime.graphRoot, graphRoot);
    assert.deepEqual(sqlite.containers, bolt.containers);
    assert.deepEqual(sqlite.anonymousVolumes, bolt.anonymousVolumes);
    for (const id of Object.values(ids)) {
      assert.deepEqual(configFor(sqlite, id), configFor(bolt, id));
      assert.deepEqual(configFor(sqlite, id, true), configFor(bolt, id, true));
    }
    // Not vacuous: the podman container's settings are in the config.
    const pc = configFor(sqlite, ids.pc!).config!;
    assert.equal(pc.User, "1000:1000");
    assert.deepEqual(pc.Entrypoint, ["/bin/sh", "-c"]);
  });

  it("is found at the graph root when there is no bolt_state.db, and trusted only for its own store", async () => {
    const graphRoot = join(work.path, "located");
    await writeSqliteDb(graphRoot, "overlay", bolt);
    const location: StoreLocation = { driver: "overlay", graphRoot, runRoot: join(work.path, "run"), additionalImageStores: [], transientStore: false };
    const warnings: string[] = [];
    const found = await readLibpodState(location, { warn: (m) => warnings.push(m) });
    assert.equal(found?.backend, "sqlite");
    assert.equal(found?.containers.size, 3);
    assert.equal(warnings.length, 0, warnings.join("\n"));
    const otherDriver = await readLibpodState({ ...location, driver: "vfs" }, { warn: (m) => warnings.push(m) });
    assert.equal(otherDriver, undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /db\.sql describes the store overlay@.*, not vfs@.*: its container records are not used$/);
  });

  it("refuses a file that is not a SQLite database with one line naming it", async () => {
    const dir = join(work.path, "corrupt");
    await mkdir(dir);
    const path = join(dir, "db.sql");
    await writeFile(path, Buffer.alloc(8192, 0x5a));
    assert.throws(
      () => readSqliteState(path),
      (err: unknown) => err instanceof CorruptInputError && err.message.startsWith(`${path}: `) && !err.message.includes("\n"),
    );
  });
});
