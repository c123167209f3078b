import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import {
  contentPadding, encodeTarHeader, endOfArchive, type TarHeader,
  TYPE_CHAR, TYPE_DIR, TYPE_FILE, TYPE_SYMLINK,
} from "../../../../transports/container-storage-copy/layers/tar-header.js";
import { run, tempDir } from "../../../helpers/tools.js";
import { listTar } from "./tar-listing.js";

const MTIME = 1_700_000_000;

function file(name: string, extra: Partial<TarHeader> = {}): TarHeader {
  return { name: Buffer.from(name), typeflag: TYPE_FILE, mode: 0o100644, uid: 0, gid: 0, size: 0, mtime: MTIME, ...extra };
}

function archive(entries: Array<[TarHeader, Buffer?]>): Buffer {
  const parts: Buffer[] = [];
  for (const [h, content] of entries) {
    parts.push(encodeTarHeader(h));
    if (content) parts.push(content, contentPadding(content.length));
  }
  parts.push(endOfArchive());
  return Buffer.concat(parts);
}

function field(block: Buffer, offset: number, size: number): string {
  const raw = block.subarray(offset, offset + size);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? size : nul).toString("latin1");
}

describe("encodeTarHeader", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir("imgcopy-tar-header-");
  });
  after(async () => dir.cleanup());

  /** GNU tar's verbose listing of `bytes`, one line per entry. */
  async function gnuList(bytes: Buffer): Promise<string[]> {
    const path = join(dir.path, "t.tar");
    await writeFile(path, bytes);
    const { stdout } = await run("tar", ["--list", "--verbose", "--numeric-owner", "--full-time", "--xattrs", "--file", path], { env: { ...process.env, TZ: "UTC" } });
    return stdout.trim().split("\n");
  }

  it("writes a plain entry as one USTAR block, in Go's field layout", () => {
    const block = encodeTarHeader(file("etc/x", { size: 3, mode: 0o100755, uid: 1000, gid: 100 }));
    assert.equal(block.length, 512);
    assert.equal(field(block, 0, 100), "etc/x");
    assert.equal(block.subarray(100, 108).toString("latin1"), "0100755\0");
    assert.equal(block.subarray(108, 116).toString("latin1"), "0001750\0");
    assert.equal(block.subarray(124, 136).toString("latin1"), "00000000003\0");
    assert.equal(block.subarray(257, 265).toString("latin1"), "ustar\x0000");
    assert.equal(block.subarray(329, 345).toString("latin1"), "0000000\x000000000\x00");
    assert.equal(field(block, 265, 32), "", "uname is empty");
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    assert.equal(block.subarray(148, 156).toString("latin1"), `${sum.toString(8).padStart(6, "0")}\0 `);
  });

  it("splits a long ASCII name into prefix and name, without PAX", async () => {
    const name = `${"a".repeat(80)}/${"b".repeat(60)}/file`;
    const block = encodeTarHeader(file(name));
    assert.equal(block.length, 512);
    assert.equal(field(block, 345, 155), `${"a".repeat(80)}/${"b".repeat(60)}`);
    assert.equal(field(block, 0, 100), "file");
    const [line] = await gnuList(archive([[file(name)]]));
    assert.match(line ?? "", new RegExp(`${name}$`));
  });

  it("uses PAX for names USTAR cannot hold, and for non-ASCII names", async () => {
    const long = `dir/${"c".repeat(120)}`;
    const unicode = "ünïcødé/名前.txt";
    for (const name of [long, unicode]) {
      const bytes = encodeTarHeader(file(name));
      assert.equal(bytes[156], 0x78, "a PAX header comes first");
      assert.ok(field(bytes, 0, 100).includes("PaxHeaders.0"), field(bytes, 0, 100));
      assert.ok(bytes.includes(Buffer.from(` path=${name}\n`)), "the path record holds the full name");
    }
    const lines = await gnuList(archive([[file(long)], [file(unicode)]]));
    assert.match(lines[0] ?? "", new RegExp(`${long}$`));
    assert.ok(lines[1]?.endsWith(unicode), lines[1]);
  });

  it("writes xattrs, big ids, devices, directories and symlinks so GNU tar and tar-stream read them back", async () => {
    const entries: Array<[TarHeader, Buffer?]> = [
      [{ ...file("d"), name: Buffer.from("d/"), typeflag: TYPE_DIR, mode: 0o40755 }],
      [file("d/x", { size: 5, xattrs: [["security.capability", Buffer.from([1, 0, 0, 2])], ["user.a", Buffer.from("v")]] }), Buffer.from("hello")],
      [file("d/big-id", { uid: 3_000_000, gid: 4_000_000 })],
      [{ ...file("d/null"), typeflag: TYPE_CHAR, mode: 0o20666, devmajor: 1, devminor: 3 }],
      [{ ...file("d/l"), typeflag: TYPE_SYMLINK, mode: 0o120777, linkname: Buffer.from(`/${"t".repeat(150)}`) }],
    ];
    const bytes = archive(entries);
    const lines = await gnuList(bytes);
    assert.match(lines[0] ?? "", /^drwxr-xr-x\s+0\/0\s+0 2023-11-14 22:13:20 d\/$/);
    assert.match(lines[1] ?? "", /^-rw-r--r--\S*\s+0\/0\s+5 .* d\/x$/);
    assert.match(lines[2] ?? "", /^-rw-r--r--\s+3000000\/4000000\s/);
    assert.match(lines[3] ?? "", /^crw-rw-rw-\s+0\/0\s+1,3\s/);
    assert.match(lines[4] ?? "", new RegExp(`d/l -> /${"t".repeat(150)}$`));
    const listed = await listTar(Readable.from([bytes]));
    assert.deepEqual(listed.map((e) => e.name), ["d/", "d/x", "d/big-id", "d/null", "d/l"]);
    assert.deepEqual(Object.keys(listed[1]?.xattrs ?? {}), ["security.capability", "user.a"]);
    assert.equal(listed[1]?.xattrs["user.a"], "v");
  });

  it("puts sizes of 8 GiB and more, and negative times, in PAX records", () => {
    const bytes = encodeTarHeader(file("huge", { size: 8 * 1024 ** 3, mtime: -5 }));
    assert.equal(bytes[156], 0x78);
    assert.ok(bytes.includes(Buffer.from(" size=8589934592\n")));
    assert.ok(bytes.includes(Buffer.from(" mtime=-5\n")));
    const main = bytes.subarray(bytes.length - 512);
    assert.equal(main.subarray(124, 136).toString("latin1"), "00000000000\0", "octal cannot hold it: Go writes 0");
  });

  it("gives PAX records their exact length, including when the length gains a digit", () => {
    // " path=" + name + "\n" is 7 + n bytes; with n = 91 the record is 98 + 2 digits = 100 bytes: 3 digits.
    for (const n of [90, 91, 92, 992, 993]) {
      const name = `x/${"p".repeat(n - 2)}`;
      const bytes = encodeTarHeader(file(name + "é"));
      const size = parseInt(field(bytes, 124, 12), 8);
      const text = bytes.subarray(512, 512 + size).toString("utf8");
      for (const record of text.split(/(?<=\n)/).filter(Boolean)) {
        const declared = Number(record.slice(0, record.indexOf(" ")));
        assert.equal(Buffer.byteLength(record), declared, record.slice(0, 20));
      }
    }
  });
});
