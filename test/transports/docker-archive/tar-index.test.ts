import assert from "node:assert/strict";
import { mkdir, readFile, symlink, link, truncate, writeFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TarIndex } from "../../../transports/docker-archive/tar-index.js";
import { encodeTarHeader } from "../../../transports/docker-archive/tar-writer.js";
import { run, tempDir } from "../../helpers/tools.js";
import { oneLineError } from "../scratch-images.js";

const LONG_DIR = `${"d".repeat(60)}/${"e".repeat(60)}`;
const LONG_FILE = `${"f".repeat(90)}.txt`;

async function readEntry(index: TarIndex, name: string): Promise<string> {
  const entry = index.resolve(name);
  return (await index.read(entry, 1 << 20)).toString();
}


describe("TarIndex", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let tree: string;

  before(async () => {
    ({ path: dir, cleanup } = await tempDir("imgcopy-tarindex-"));
    tree = join(dir, "tree");
    await mkdir(join(tree, LONG_DIR), { recursive: true });
    await writeFile(join(tree, LONG_DIR, LONG_FILE), "long name content\n");
    await writeFile(join(tree, "manifest.json"), "[]");
    await mkdir(join(tree, "sub"));
    await writeFile(join(tree, "sub", "data"), "x".repeat(1500));
    await symlink("./sub//data", join(tree, "rel-link"));
    await mkdir(join(tree, "id1"));
    await symlink("../sub/data", join(tree, "id1", "layer.tar"));
    await link(join(tree, "sub", "data"), join(tree, "hard"));
  });
  after(() => cleanup());

  for (const format of ["gnu", "pax", "ustar"]) {
    it(`reads ${format} archives written by GNU tar, with long names and "./" prefixes`, async () => {
      const archive = join(dir, `${format}.tar`);
      await run("tar", [`--format=${format}`, "-cf", archive, "-C", tree, "."]);
      const index = await TarIndex.scan(archive, archive);
      assert.equal(await readEntry(index, `${LONG_DIR}/${LONG_FILE}`), "long name content\n");
      assert.equal(await readEntry(index, `./${LONG_DIR}/${LONG_FILE}`), "long name content\n");
      assert.equal(await readEntry(index, "manifest.json"), "[]");
      assert.equal(await readEntry(index, "id1/layer.tar"), "x".repeat(1500));
      assert.equal(await readEntry(index, "rel-link"), "x".repeat(1500));
      assert.equal(await readEntry(index, "hard"), "x".repeat(1500));
      assert.equal(index.get("sub")?.type, "directory");
      assert.throws(() => index.resolve("nope"), /no entry "nope"/);
    });
  }

  it("honours a PAX size record over the header's size", async () => {
    const archive = join(dir, "pax-size.tar");
    const content = Buffer.from("0123456789");
    const paxRecord = Buffer.from("11 size=10\n");
    const paxHeader = encodeTarHeader({ name: "PaxHeaders/f", type: "file", size: paxRecord.length });
    paxHeader.write("x", 156, "latin1");
    rewriteChecksum(paxHeader);
    const fileHeader = encodeTarHeader({ name: "f", type: "file", size: 0 });
    const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
    await writeFile(archive, Buffer.concat([paxHeader, pad(paxRecord), fileHeader, pad(content), Buffer.alloc(1024)]));
    const index = await TarIndex.scan(archive, archive);
    assert.equal(await readEntry(index, "f"), "0123456789");
  });

  it("rejects a truncated archive, naming it and the offset", async () => {
    const archive = join(dir, "trunc.tar");
    await run("tar", ["-cf", archive, "-C", tree, "."]);
    const full = (await stat(archive)).size;
    const dataOffset = (await TarIndex.scan(archive, archive)).resolve("sub/data").offset;
    await truncate(archive, dataOffset + 100);
    await assert.rejects(TarIndex.scan(archive, "my.tar"), oneLineError("ECORRUPT", /^my\.tar: truncated archive: entry "\.\/sub\/data" needs 1500 bytes.* at offset \d+$/));
    // No end-of-archive marker, every entry whole: read (as skopeo, podman and GNU tar do), the end noted.
    await run("tar", ["-cf", archive, "-C", tree, "."]);
    const bytes = await readFile(archive);
    assert.equal(bytes.length, full);
    const cut = join(dir, "cut.tar");
    let end = bytes.length;
    while (end >= 512 && bytes.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
    await writeFile(cut, bytes.subarray(0, end));
    const unmarked = await TarIndex.scan(cut, cut);
    assert.equal(unmarked.unmarkedEnd, end);
    assert.equal((await unmarked.read(unmarked.resolve("sub/data"), 4096)).length, 1500);
    assert.equal((await TarIndex.scan(archive, archive)).unmarkedEnd, undefined);
    await writeFile(cut, bytes.subarray(0, 700));
    await assert.rejects(TarIndex.scan(cut, cut), oneLineError("ECORRUPT", /truncated archive/));
  });

  it("rejects a header with a bad checksum or a malformed PAX record", async () => {
    const archive = join(dir, "bad.tar");
    await run("tar", ["-cf", archive, "-C", tree, "./manifest.json"]);
    const bytes = await readFile(archive);
    bytes[0] = "X".charCodeAt(0);
    await writeFile(archive, bytes);
    await assert.rejects(TarIndex.scan(archive, archive), oneLineError("ECORRUPT", /malformed tar header \(bad header checksum.*\) at offset 0$/));

    const paxHeader = encodeTarHeader({ name: "PaxHeaders/f", type: "file", size: 12 });
    paxHeader.write("x", 156, "latin1");
    rewriteChecksum(paxHeader);
    const record = Buffer.concat([Buffer.from("99 size=10\n"), Buffer.alloc(512 - 11)]);
    await writeFile(archive, Buffer.concat([paxHeader, record, Buffer.alloc(1024)]));
    await assert.rejects(TarIndex.scan(archive, archive), oneLineError("ECORRUPT", /malformed PAX record at byte 0.* at offset 0$/));
  });

  it("names a missing file as not found", async () => {
    await assert.rejects(TarIndex.scan(join(dir, "missing.tar"), "missing.tar"), oneLineError("ENOTFOUND", /^missing\.tar: no such file or directory$/));
  });
});

function rewriteChecksum(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "latin1");
}
