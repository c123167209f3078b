// Replaying tar-split against real buildah stores (vfs and overlay): every image layer comes out
// bit-for-bit (its diff-digest and diff-size), and tampered content or tar-split is refused.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readlinkSync } from "node:fs";
import { link, mkdir, readFile, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { setAttribute } from "fs-xattr";
import { isImgcopyError } from "../../../../src/errors.js";
import { crc64Iso } from "../../../../transports/container-storage-copy/layers/crc64-iso.js";
import { openLayerStream } from "../../../../transports/container-storage-copy/layers/index.js";
import { layerDirUnder, tarSplitPath } from "../../../../transports/container-storage-copy/layers/layer-paths.js";
import type { LayerRecord } from "../../../../transports/container-storage-copy/store/record-types.js";
import { run } from "../../../helpers/tools.js";
import { BuildahStore } from "./buildah-store.js";

async function drain(stream: Readable): Promise<{ digest: string; size: number; bytes: Buffer }> {
  const hash = createHash("sha256");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest("hex")}`, size, bytes: Buffer.concat(chunks) };
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isImgcopyError(err), `not an imgcopy error: ${String(err)}`);
    assert.ok(!err.message.includes("\n"), "one-line message");
    return { code: err.code, message: err.message };
  }
  assert.fail("expected a failure");
}

function tarSplitLines(entries: object[]): Buffer {
  return gzipSync(entries.map((e) => JSON.stringify(e)).join("\n") + "\n");
}

for (const driver of ["vfs", "overlay"] as const) {
  describe(`tar-split replay (${driver})`, () => {
    let store: BuildahStore;
    let layers: LayerRecord[]; // top first: [second, base]

    before(async () => {
      store = await BuildahStore.create(driver);
      const c = await store.from("scratch");
      await mkdir(join(c.mount, "etc/sub"), { recursive: true });
      await writeFile(join(c.mount, "etc/keep"), "keep me\n");
      await writeFile(join(c.mount, "etc/block"), Buffer.alloc(512, 0x61));
      await writeFile(join(c.mount, "etc/empty"), "");
      await writeFile(join(c.mount, "etc/sub/gone"), "to be deleted\n");
      await writeFile(join(c.mount, "odd"), Buffer.alloc(70_001, 0x62));
      await link(join(c.mount, "odd"), join(c.mount, "odd-link"));
      await symlink("/etc/keep", join(c.mount, "sym"));
      await store.commit(c.id, "localhost/replay-base:1");
      const c2 = await store.from("localhost/replay-base:1");
      await writeFile(join(c2.mount, "etc/keep"), "changed\n");
      await rm(join(c2.mount, "etc/sub/gone"));
      await writeFile(join(c2.mount, "new"), "new\n");
      await setAttribute(join(c2.mount, "new"), "user.note", "with an xattr");
      const image = await store.commit(c2.id, "localhost/replay-top:1");
      layers = await store.chain(await store.imageTopLayer(image));
      assert.equal(layers.length, 2);
    });
    after(async () => store.cleanup());

    const top = (): LayerRecord => layers[0] as LayerRecord;
    const base = (): LayerRecord => layers[1] as LayerRecord;

    it("reproduces every image layer: sha256 = diff-digest, length = diff-size", async () => {
      for (const layer of layers) {
        const out = await drain(await openLayerStream(await store.streamInput(layer.id)));
        assert.equal(out.digest, layer["diff-digest"], `layer ${layer.id}`);
        assert.equal(out.size, layer["diff-size"], `layer ${layer.id}`);
      }
    });

    it("leaves no descriptor open behind a replay, finished or stopped early", async () => {
      // Descriptors into the layers' directories (others, such as the store's lock files, come and go on their own).
      const openInLayers = (): string[] => readdirSync("/proc/self/fd").flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.startsWith(join(store.graphRoot, driver)) ? [target] : [];
        } catch {
          return []; // the directory's own descriptor, closed by now
        }
      });
      for (const layer of layers) await drain(await openLayerStream(await store.streamInput(layer.id)));
      assert.deepEqual(openInLayers(), [], "after whole replays");
      const stream = await openLayerStream({ ...(await store.streamInput(base().id)), mtime: undefined });
      for await (const _chunk of stream) break; // the consumer stops after the first batch
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(openInLayers(), [], "after a replay stopped early");
    });

    it("refuses a file whose content no longer matches its checksum", async () => {
      const path = join(layerDirUnder(store.graphRoot, driver, base().id), "etc/keep");
      const saved = await readFile(path);
      try {
        await writeFile(path, "KEEP ME\n"); // same size, other bytes
        const err = await failure(drain(await openLayerStream(await store.streamInput(base().id))));
        assert.equal(err.code, "ECORRUPT");
        assert.equal(err.message, `layer ${base().id}: etc/keep: content does not match tar-split checksum`);
        await writeFile(path, "short\n");
        const short = await failure(drain(await openLayerStream(await store.streamInput(base().id))));
        assert.equal(short.code, "ECORRUPT");
        assert.match(short.message, /etc\/keep: file is 6 bytes, the tar-split says 8$/);
      } finally {
        await writeFile(path, saved);
      }
    });

    it("refuses a tar-split that is not gzip, not JSON, or whose headers were edited", async () => {
      const path = tarSplitPath(store.graphRoot, driver, base().id);
      const saved = await readFile(path);
      try {
        await writeFile(path, "not gzip at all");
        let err = await failure(drain(await openLayerStream(await store.streamInput(base().id))));
        assert.equal(err.code, "ECORRUPT");
        assert.match(err.message, new RegExp(`^layer ${base().id}: .*tar-split\\.gz: not a valid gzip file`));

        await writeFile(path, gzipSync('{"type":2,"payload":""}\n{"type": oops}\n'));
        err = await failure(drain(await openLayerStream(await store.streamInput(base().id))));
        assert.equal(err.code, "ECORRUPT");
        assert.match(err.message, /: line 2: not JSON$/);

        // Flip one byte of a header segment: valid JSON, valid base64, a different tar.
        const lines = gunzipSync(saved).toString().trim().split("\n").map((l) => JSON.parse(l) as { type: number; payload?: string });
        const seg = lines.find((l) => l.type === 2 && l.payload) as { payload: string };
        const bytes = Buffer.from(seg.payload, "base64");
        bytes[0] = (bytes[0] as number) ^ 0x20;
        seg.payload = bytes.toString("base64");
        await writeFile(path, tarSplitLines(lines));
        err = await failure(drain(await openLayerStream(await store.streamInput(base().id))));
        assert.equal(err.code, "EDIGEST");
        assert.match(err.message, new RegExp(`^layer ${base().id} \\(tar-split replay\\): digest mismatch: expected ${base()["diff-digest"]}, got sha256:`));
      } finally {
        await writeFile(path, saved);
      }
    });

    it("refuses tar-split names that leave the layer or go through a symlink", async () => {
      const path = tarSplitPath(store.graphRoot, driver, base().id);
      const saved = await readFile(path);
      const passwd = Buffer.from("root:x:0:0:root:/root:/bin/sh\n");
      const crc = crc64Iso(passwd).toString("base64");
      try {
        for (const [name, why] of [["../../../../../../../../etc/passwd", "the name escapes the layer directory"], ["sym", "is a symlink, not the file's content"]] as const) {
          await writeFile(path, tarSplitLines([{ type: 1, name, size: passwd.length, payload: crc, position: 0 }]));
          const err = await failure(drain(await openLayerStream(await store.streamInput(base().id))));
          assert.equal(err.code, "ECORRUPT", name);
          assert.ok(err.message.endsWith(why), err.message);
        }
        // A symlink in the middle of the path ("dirlink" -> /etc) is refused too.
        const dirlink = join(layerDirUnder(store.graphRoot, driver, base().id), "dirlink");
        await symlink("/etc", dirlink);
        await writeFile(path, tarSplitLines([{ type: 1, name: "dirlink/hostname", size: 1, payload: crc, position: 0 }]));
        const err = await failure(drain(await openLayerStream(await store.streamInput(base().id))));
        assert.match(err.message, /dirlink\/hostname: the path goes through a symlink$/);
        await unlink(dirlink);
      } finally {
        await writeFile(path, saved);
      }
    });

    it("reads name_raw (base64) instead of name, and content missing from the layer is an error", async () => {
      const path = tarSplitPath(store.graphRoot, driver, top().id);
      const saved = await readFile(path);
      const content = Buffer.from("new\n");
      try {
        await writeFile(path, tarSplitLines([
          { type: 1, name: "wrong", name_raw: Buffer.from("new").toString("base64"), size: 4, payload: crc64Iso(content).toString("base64"), position: 0 },
        ]));
        const input = await store.streamInput(top().id);
        delete input.layer["diff-digest"];
        delete input.layer["diff-size"];
        assert.deepEqual((await drain(await openLayerStream(input))).bytes, content);

        await writeFile(path, tarSplitLines([{ type: 1, name: "no/such/file", size: 4, payload: crc64Iso(content).toString("base64"), position: 0 }]));
        const err = await failure(drain(await openLayerStream(input)));
        assert.equal(err.code, "ECORRUPT");
        assert.match(err.message, /no\/such\/file: file listed in the tar-split is missing from the layer$/);
      } finally {
        await writeFile(path, saved);
      }
    });

    if (driver === "overlay") {
      it("reads a file the layer's diff lacks from its lowers' diffs, nearest first", async () => {
        const path = tarSplitPath(store.graphRoot, driver, top().id);
        const saved = await readFile(path);
        const block = Buffer.alloc(512, 0x61); // etc/block exists only in the base layer's diff
        try {
          await writeFile(path, tarSplitLines([{ type: 1, name: "etc/block", size: 512, payload: crc64Iso(block).toString("base64"), position: 0 }]));
          const input = await store.streamInput(top().id);
          delete input.layer["diff-digest"];
          delete input.layer["diff-size"];
          assert.deepEqual((await drain(await openLayerStream(input))).bytes, block);
        } finally {
          await writeFile(path, saved);
        }
      });

      it("finds a lower layer that lives in an additional image store", async () => {
        const path = tarSplitPath(store.graphRoot, driver, top().id);
        const saved = await readFile(path);
        const block = Buffer.alloc(512, 0x61);
        const baseDir = join(store.graphRoot, "overlay", base().id);
        const other = join(store.dir, "additional");
        await mkdir(join(other, "overlay"), { recursive: true });
        await run("cp", ["-a", baseDir, join(other, "overlay")]);
        await rename(baseDir, `${baseDir}.hidden`);
        try {
          await writeFile(path, tarSplitLines([{ type: 1, name: "etc/block", size: 512, payload: crc64Iso(block).toString("base64"), position: 0 }]));
          const input = await store.streamInput(top().id);
          delete input.layer["diff-digest"];
          delete input.layer["diff-size"];
          const missing = await failure(drain(await openLayerStream(input)));
          assert.equal(missing.code, "ENOTFOUND");
          assert.match(missing.message, new RegExp(`^layer ${base().id}: its files are missing \\(looked in ${baseDir}/diff\\)$`));
          input.location = { ...input.location, additionalImageStores: [other] };
          assert.deepEqual((await drain(await openLayerStream(input))).bytes, block);
        } finally {
          await rename(`${baseDir}.hidden`, baseDir);
          await writeFile(path, saved);
        }
      });
    }

    it("still reproduces every layer once the tampering above is undone", async () => {
      for (const layer of layers) {
        const out = await drain(await openLayerStream(await store.streamInput(layer.id)));
        assert.equal(out.digest, layer["diff-digest"]);
      }
    });
  });
}
