// FileSink: every byte lands in order, a new file only, background flushes as the file grows, and
// failures reach the writer.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { open, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { FileSink } from "../src/file-sink.js";
import { tempDir } from "./helpers/tools.js";

describe("FileSink", () => {
  let tmp: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir("imgcopy-file-sink-");
  });
  after(() => tmp?.cleanup());

  /** Counts FileHandle.datasync/sync calls while `fn` runs. */
  async function countingSyncs<T>(fn: () => Promise<T>): Promise<{ result: T; datasyncs: number; syncs: number }> {
    const probe = await open(join(tmp.path, "probe"), "w");
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void>; sync: () => Promise<void> };
    await probe.close();
    const { datasync, sync } = proto;
    let datasyncs = 0;
    let syncs = 0;
    proto.datasync = function (this: unknown) {
      datasyncs++;
      return datasync.call(this);
    };
    proto.sync = function (this: unknown) {
      syncs++;
      return sync.call(this);
    };
    try {
      return { result: await fn(), datasyncs, syncs };
    } finally {
      proto.datasync = datasync;
      proto.sync = sync;
    }
  }

  it("writes every chunk in order (empty and odd-sized ones too), flushing in the background past 32 MiB and once at the end", async () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < 90; i++) chunks.push(Buffer.alloc(i % 7 === 0 ? 0 : 512 * 1024 + i, i));
    const path = join(tmp.path, "big");
    const sink = new FileSink(path, { sync: true, mode: 0o600 });
    const { datasyncs, syncs } = await countingSyncs(() => pipeline(Readable.from(chunks), sink));
    const expected = Buffer.concat(chunks);
    const written = await readFile(path);
    assert.equal(written.length, expected.length);
    assert.equal(createHash("sha256").update(written).digest("hex"), createHash("sha256").update(expected).digest("hex"));
    assert.equal(sink.bytesWritten, expected.length);
    assert.ok(datasyncs >= 1, `background fdatasyncs: ${datasyncs}`);
    assert.equal(syncs, 1, "one fsync before finishing");
    assert.equal((await stat(path)).mode & 0o777, 0o600 & ~process.umask());
  });

  it("writeAt fills in bytes written before, after everything queued; truncateTo cuts back and writing goes on from there", async () => {
    const path = join(tmp.path, "patched");
    const sink = new FileSink(path);
    sink.write(Buffer.alloc(8, "-"));
    sink.write(Buffer.from("body"));
    await sink.writeAt(0, Buffer.from("HEAD"));
    sink.write(Buffer.from("dropped"));
    await sink.truncateTo(12);
    sink.end(Buffer.from("+tail"));
    await new Promise((resolve, reject) => sink.on("close", resolve).on("error", reject));
    assert.equal(await readFile(path, "utf8"), "HEAD----body+tail");
    assert.equal(sink.bytesWritten, 17);
  });

  it("without sync: no flush at all", async () => {
    const { datasyncs, syncs } = await countingSyncs(() => pipeline(Readable.from([Buffer.alloc(40 << 20)]), new FileSink(join(tmp.path, "nosync"))));
    assert.deepEqual([datasyncs, syncs], [0, 0]);
  });

  it("refuses an existing file and leaves it as it was", async () => {
    const path = join(tmp.path, "existing");
    await writeFile(path, "keep me");
    await assert.rejects(pipeline(Readable.from([Buffer.from("new")]), new FileSink(path)), { code: "EEXIST" });
    assert.equal(await readFile(path, "utf8"), "keep me");
  });

  it("a failing source fails the pipeline and the file handle is closed", async () => {
    const path = join(tmp.path, "half");
    const sink = new FileSink(path);
    const source = Readable.from(
      (async function* () {
        yield Buffer.alloc(1 << 20, 1);
        throw new Error("source broke");
      })(),
    );
    await assert.rejects(pipeline(source, sink), /source broke/);
    assert.equal(sink.destroyed, true);
    if (!sink.closed) await new Promise((resolve) => sink.on("close", resolve));
    assert.equal(sink.closed, true);
  });

  it("a missing folder fails with ENOENT", async () => {
    await assert.rejects(pipeline(Readable.from([Buffer.from("x")]), new FileSink(join(tmp.path, "no", "such"))), { code: "ENOENT" });
  });
});
