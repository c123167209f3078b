// readAhead: a big file's content in chunks read ahead on the thread pool, exactly its bytes,
// stopping at the end of a file shorter than announced, and stopped by an abort.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { closeSync, openSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isImgcopyError } from "../../../../src/errors.js";
import { readAhead } from "../../../../transports/container-storage-copy/layers/file-content.js";
import { tempDir } from "../../../helpers/tools.js";

const CHUNK = 256 * 1024;

describe("readAhead", () => {
  let tmp: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir("imgcopy-read-ahead-");
  });
  after(async () => tmp.cleanup());

  async function readAll(content: Buffer, size: number, signal?: AbortSignal): Promise<Buffer[]> {
    const path = join(tmp.path, `f-${content.length}-${size}`);
    await writeFile(path, content);
    const fd = openSync(path, "r");
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of readAhead(fd, size, "layer L: f", signal)) chunks.push(chunk);
      return chunks;
    } finally {
      closeSync(fd);
    }
  }

  it("gives exactly the file's bytes, in chunks of at most 256 KiB", async () => {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 77]) {
      const content = randomBytes(size);
      const chunks = await readAll(content, size);
      assert.ok(Buffer.concat(chunks).equals(content), `size ${size}`);
      assert.ok(chunks.every((c) => c.length > 0 && c.length <= CHUNK), `size ${size}: chunk sizes`);
      assert.equal(chunks.length, Math.ceil(size / CHUNK), `size ${size}: chunks`);
    }
  });

  it("reads no more than asked, and stops at the end of a shorter file", async () => {
    const content = randomBytes(2 * CHUNK + 10);
    assert.ok(Buffer.concat(await readAll(content, CHUNK + 5)).equals(content.subarray(0, CHUNK + 5)));
    const short = await readAll(content, 5 * CHUNK);
    assert.ok(Buffer.concat(short).equals(content), "a file shorter than announced ends where it ends");
  });

  it("stops with an AbortedError once the signal is aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    try {
      await readAll(randomBytes(CHUNK), CHUNK, controller.signal);
      assert.fail("read despite the abort");
    } catch (err) {
      assert.ok(isImgcopyError(err), String(err));
      assert.match(err.message, /^layer L: f: aborted$/);
    }
  });
});
