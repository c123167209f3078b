// TarBatches: a layer's bytes gathered into full fixed-size batches, file contents read straight in.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { giveBack } from "../../../../src/compression/lent-buffers.js";
import { TarBatches } from "../../../../transports/container-storage-copy/layers/tar-batches.js";

/** Runs a batch generator to its end: the batches it gave, and what it returned. */
function drain<T>(gen: Generator<Buffer, T>): { batches: Buffer[]; result: T } {
  const batches: Buffer[] = [];
  for (let step = gen.next(); ; step = gen.next()) {
    if (step.done) return { batches, result: step.value };
    batches.push(step.value);
  }
}

describe("TarBatches", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tar-batches-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("gives only full batches until flush, every byte in order, each batch a buffer of its own", () => {
    const out = new TarBatches(1000);
    const pieces = Array.from({ length: 50 }, (_, i) => randomBytes(1 + ((i * 97) % 300)));
    const batches: Buffer[] = [];
    for (const p of pieces) batches.push(...drain(out.append(p)).batches);
    batches.push(...drain(out.zeros(1234)).batches);
    assert.ok(batches.every((b) => b.length === 1000));
    assert.equal(new Set(batches.map((b) => b.buffer)).size, batches.length);
    const rest = out.flush();
    assert.ok(rest && rest.length > 0 && rest.length < 1000);
    assert.equal(out.flush(), undefined);
    const expected = Buffer.concat([...pieces, Buffer.alloc(1234)]);
    assert.ok(Buffer.concat([...batches, rest]).equals(expected));
  });

  it("lends its full batches: one given back is filled again, one kept never is, the partial last one is not lent", () => {
    const out = new TarBatches(1000);
    const [first, second] = drain(out.append(Buffer.alloc(2000, 1))).batches;
    assert.ok(first && second && first !== second);
    assert.equal(giveBack(first), true);
    const [third] = drain(out.append(Buffer.alloc(1000, 2))).batches;
    assert.equal(third, first, "the given-back batch is refilled");
    assert.ok(third.equals(Buffer.alloc(1000, 2)));
    assert.ok(second.equals(Buffer.alloc(1000, 1)), "a batch not given back keeps its bytes");
    const [fourth] = drain(out.append(Buffer.alloc(1000, 3))).batches;
    assert.ok(fourth !== first && fourth !== second);
    drain(out.append(Buffer.alloc(10, 4)));
    const rest = out.flush() as Buffer;
    assert.equal(giveBack(rest), false, "the last, partial batch is not lent");
  });

  it("reads a file across batch boundaries and returns how much it read, fewer bytes at an early end", () => {
    const content = randomBytes(5000);
    const path = join(dir, "f");
    writeFileSync(path, content);
    const out = new TarBatches(1024);
    drain(out.append(Buffer.from("header")));
    const fd = openSync(path, "r");
    try {
      const whole = drain(out.readFile(fd, content.length));
      assert.equal(whole.result, content.length);
      const short = drain(out.readFile(fd, content.length + 10));
      assert.equal(short.result, content.length); // the caller decides what a shrunk file means
      const all = Buffer.concat([...whole.batches, ...short.batches, out.flush() ?? Buffer.alloc(0)]);
      assert.ok(all.equals(Buffer.concat([Buffer.from("header"), content, content])));
    } finally {
      closeSync(fd);
    }
  });

  it("asks `stopped` between reads, so an abort ends a long file", () => {
    const path = join(dir, "g");
    writeFileSync(path, randomBytes(10_000));
    const out = new TarBatches(1024);
    const fd = openSync(path, "r");
    let reads = 0;
    try {
      assert.throws(() => drain(out.readFile(fd, 10_000, () => {
        if (++reads > 3) throw new Error("stopped");
      })), /stopped/);
    } finally {
      closeSync(fd);
    }
    assert.equal(reads, 4);
  });
});
