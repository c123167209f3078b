// The BoltDB reader on bolt_state.db files written by the real podman 4, and on damaged copies of
// them: every container podman lists is read with the config podman inspect shows, and a corrupt
// or truncated file is refused with one line naming it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFile, readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CorruptInputError } from "../../../../src/errors.js";
import { BoltDb, fnv1a64 } from "../../../../transports/container-storage-copy/libpod/bolt.js";
import { readBoltState } from "../../../../transports/container-storage-copy/libpod/bolt-state.js";
import { tempDir } from "../../../helpers/tools.js";
import type { Store } from "../../../helpers/buildah-store.js";
import { FULL_OPTIONS, VOLUME_OPTIONS, boltPath, createPodmanStore, podmanCreate } from "./podman-store.js";

/** Enough containers that the `ctr` and `all-ctrs` buckets need branch pages (a leaf holds a few dozen). */
const MANY = 60;

interface PodmanInspect {
  Id: string;
  Name: string;
  Config: { Env: string[]; User: string; WorkingDir: string; Labels: Record<string, string> };
}

/** Page flags found walking the file page by page (page 0's meta gives the page size). */
async function pageFlags(path: string): Promise<{ pageSize: number; flags: number[]; overflow: number[] }> {
  const buf = await readFile(path);
  const pageSize = buf.readUInt32LE(16 + 8);
  const flags: number[] = [];
  const overflow: number[] = [];
  for (let off = 0; off + 16 <= buf.length; off += pageSize) {
    flags.push(buf.readUInt16LE(off + 8));
    overflow.push(buf.readUInt32LE(off + 12));
  }
  return { pageSize, flags, overflow };
}

function assertRefused(err: unknown, path: string): boolean {
  assert.ok(err instanceof CorruptInputError, `expected CorruptInputError, got ${String(err)}`);
  assert.ok(err.message.startsWith(`${path}: `), err.message);
  assert.ok(!err.message.includes("\n"), `one line: ${err.message}`);
  return true;
}

describe("BoltDB reader on podman's bolt_state.db", () => {
  let store: Store;
  let work: { path: string; cleanup: () => Promise<void> };
  let db: string;
  const ids = new Map<string, string>();

  before(async () => {
    work = await tempDir("imgcopy-bolt-");
    store = await createPodmanStore("vfs");
    ids.set("pc", await podmanCreate(store, "pc", FULL_OPTIONS, ["echo hi"]));
    ids.set("plain", await podmanCreate(store, "plain", []));
    ids.set("vol", await podmanCreate(store, "vol", VOLUME_OPTIONS));
    for (let i = 0; i < MANY; i++) ids.set(`many-${i}`, await podmanCreate(store, `many-${i}`, ["--label", `n=${i}`]));
    db = boltPath(store);
  });
  after(async () => {
    await store?.cleanup();
    await work?.cleanup();
  });

  it("reads the file podman wrote: branch, leaf and overflow pages are all in it", async () => {
    const { flags, overflow } = await pageFlags(db);
    assert.ok(flags.some((f) => f === 0x01), "a branch page");
    assert.ok(flags.some((f) => f === 0x02), "a leaf page");
    assert.ok(overflow.some((o) => o > 0), "a page with overflow pages (a container config is larger than a page)");
    const bolt = await BoltDb.open(db);
    const names = bolt.root().entries().map((e) => e.key.toString());
    for (const b of ["all-ctrs", "ctr", "name-registry", "runtime-config", "vol"]) assert.ok(names.includes(b), `bucket ${b} in ${names.join(",")}`);
  });

  it("finds every container podman lists, with its name in all-ctrs and name-registry", async () => {
    const listed = JSON.parse(await store.podman(["ps", "-a", "--format", "json"])) as Array<{ Id: string; Names: string[] }>;
    assert.equal(listed.length, MANY + 3);
    const root = (await BoltDb.open(db)).root();
    const allCtrs = root.bucket("all-ctrs")!;
    const nameRegistry = root.bucket("name-registry")!;
    assert.equal(allCtrs.entries().length, listed.length);
    for (const c of listed) {
      assert.equal(allCtrs.get(c.Id)?.toString(), c.Names[0]);
      assert.equal(nameRegistry.get(c.Names[0]!)?.toString(), c.Id);
      assert.ok(root.bucket("ctr")!.bucket(c.Id)?.get("config"), `ctr/${c.Id}/config`);
    }
    assert.equal(root.bucket("all-ctrs")!.get("no-such-id"), undefined);
    assert.equal(root.bucket("no-such-bucket"), undefined);
  });

  it("gives each container the config podman inspect shows", async () => {
    const state = await readBoltState(db);
    assert.equal(state.backend, "boltdb");
    assert.equal(state.runtime.graphRoot, store.graphRoot);
    assert.equal(state.runtime.graphDriver, "vfs");
    assert.equal(state.containers.size, MANY + 3);
    const inspected = JSON.parse(await store.podman(["inspect", "--type", "container", "pc", "vol", "many-7"])) as PodmanInspect[];
    for (const i of inspected) {
      const c = state.containers.get(i.Id);
      assert.ok(c, `container ${i.Name}`);
      assert.equal(c.name, i.Name);
      assert.deepEqual(new Set(c.spec?.process?.env), new Set(i.Config.Env));
      assert.equal(c.user ?? "", i.Config.User);
      assert.equal(c.spec?.process?.cwd, i.Config.WorkingDir);
      assert.deepEqual(c.labels, i.Config.Labels);
    }
    const pc = state.containers.get(ids.get("pc")!)!;
    assert.deepEqual(pc.entrypoint, ["/bin/sh", "-c"]);
    assert.deepEqual(pc.command, ["echo hi"]);
    // The anonymous volumes (-v /anon and the image's /data) are told from the named one.
    const vol = state.containers.get(ids.get("vol")!)!;
    const anonymous = (vol.namedVolumes ?? []).filter((v) => state.anonymousVolumes.has(v.volumeName)).map((v) => v.dest);
    assert.deepEqual(anonymous.sort(), ["/anon", "/data"]);
    assert.ok(state.volumes.has("named-vol") && !state.anonymousVolumes.has("named-vol"));
  });

  it("takes the meta page with the higher txid, and the other one when that one's checksum is wrong", async () => {
    const good = await BoltDb.open(db);
    const buf = await readFile(db);
    const pageSize = buf.readUInt32LE(24);
    const txids = [buf.readBigUInt64LE(16 + 48), buf.readBigUInt64LE(pageSize + 16 + 48)].map(Number);
    assert.equal(good.txid, Math.max(...txids));
    for (const m of [0, pageSize]) assert.equal(fnv1a64(buf.subarray(m + 16, m + 72)), buf.readBigUInt64LE(m + 72), "FNV-1a 64 of the meta");
    const newer = txids[0]! > txids[1]! ? 0 : pageSize;
    const copy = join(work.path, "older-meta.db");
    buf.writeUInt8(buf.readUInt8(newer + 16 + 40) ^ 0xff, newer + 16 + 40); // the newer meta's pgid: its checksum no longer matches
    await writeFile(copy, buf);
    const older = await BoltDb.open(copy);
    assert.equal(older.txid, Math.min(...txids));
    // The transaction before the last is intact: podman's containers are all there.
    assert.ok((older.root().bucket("all-ctrs")?.entries().length ?? 0) >= MANY + 2);
  });

  it("refuses a truncated copy with one line naming the file", async () => {
    const buf = await readFile(db);
    // The pages in use end at the high-water mark (pgid) of the meta in force; bbolt preallocates past it.
    const pageSize = buf.readUInt32LE(24);
    const metas = [16, pageSize + 16].map((m) => ({ txid: buf.readBigUInt64LE(m + 48), pgid: Number(buf.readBigUInt64LE(m + 40)) }));
    const inUse = (metas[0]!.txid > metas[1]!.txid ? metas[0]! : metas[1]!).pgid * pageSize;
    for (const keep of [0, 50, pageSize, Math.floor(inUse / 2), inUse - 1]) {
      const copy = join(work.path, `truncated-${keep}.db`);
      await copyFile(db, copy);
      await truncate(copy, keep);
      await assert.rejects(readBoltState(copy), (err) => assertRefused(err, copy), `truncated to ${keep} bytes`);
    }
  });

  it("refuses copies with damaged pages or both meta pages damaged", async () => {
    const original = await readFile(db);
    const pageSize = original.readUInt32LE(24);
    const damage: Record<string, (b: Buffer) => void> = {
      "both metas": (b) => {
        for (const at of [16 + 60, pageSize + 16 + 60]) b.writeUInt8(b.readUInt8(at) ^ 1, at);
      },
      "every data page's id": (b) => {
        for (let off = 2 * pageSize; off < b.length; off += pageSize) b.writeBigUInt64LE(0xdeadn, off);
      },
      "every data page's element count": (b) => {
        for (let off = 2 * pageSize; off < b.length; off += pageSize) b.writeUInt16LE(0xffff, off + 10);
      },
      "branch pages whose children are all one page": (b) => {
        for (let off = 2 * pageSize; off + 16 <= b.length; off += pageSize) {
          if (b.readUInt16LE(off + 8) !== 0x01) continue;
          const first = b.readBigUInt64LE(off + 16 + 8);
          for (let i = 1; i < b.readUInt16LE(off + 10); i++) b.writeBigUInt64LE(first, off + 16 + i * 16 + 8);
        }
      },
      "random bytes": (b) => {
        for (let i = 0; i < b.length; i++) b[i] = (i * 7919 + 13) & 0xff;
      },
    };
    for (const [what, spoil] of Object.entries(damage)) {
      const b = Buffer.from(original);
      spoil(b);
      const copy = join(work.path, `${what.replace(/\W+/g, "-")}.db`);
      await writeFile(copy, b);
      await assert.rejects(readBoltState(copy), (err) => assertRefused(err, copy), what);
    }
  });
});
