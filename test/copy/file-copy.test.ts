// Blobs kept as they are, from a file to a destination that stores files (oci, dir): copied inside
// the kernel, and the engine hashes the copy before it counts. Bad bytes, sizes and destinations
// that skip the check are refused with nothing published.
import assert from "node:assert/strict";
import { appendFile, readFile, readdir, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { copyImage } from "../../src/copy/index.js";
import { digestHex } from "../../src/digest.js";
import { DigestMismatchError, IOError } from "../../src/errors.js";
import type { BlobInfo, ImageDestination, ImageReference, ProgressEvent, PutBlobFileOptions } from "../../src/types.js";
import dirTransport from "../../transports/dir/index.js";
import ociTransport from "../../transports/oci/index.js";
import { tempDir } from "../helpers/tools.js";
import { MemoryImage, MemoryReference } from "./memory-transport.js";
import { addImage, tarOf, type BuiltImage } from "./test-images.js";

/** The plain layer stays plain in an oci layout too (as skopeo --dest-oci-accept-uncompressed-layers keeps it). */
const keepPlain = { destCtx: { ociAcceptUncompressedLayers: true } };

interface Calls {
  putBlob: string[];
  putBlobFromFile: string[];
}

/** `ref` whose destination records which put method each blob took; `skipVerify` makes putBlobFromFile not verify. */
function watched(ref: ImageReference, calls: Calls, skipVerify = false): ImageReference {
  return {
    transport: ref.transport,
    toString: () => ref.toString(),
    newImageSource: (ctx) => ref.newImageSource(ctx),
    newImageDestination: async (ctx) => {
      const dest = await ref.newImageDestination(ctx);
      const putBlobFromFile = dest.putBlobFromFile?.bind(dest) as NonNullable<ImageDestination["putBlobFromFile"]>;
      return Object.assign(Object.create(dest) as ImageDestination, {
        putBlob: (stream: Parameters<ImageDestination["putBlob"]>[0], info: BlobInfo, opts: Parameters<ImageDestination["putBlob"]>[2]) => {
          calls.putBlob.push(info.digest);
          return dest.putBlob(stream, info, opts);
        },
        putBlobFromFile: (path: string, info: BlobInfo, opts: PutBlobFileOptions) => {
          calls.putBlobFromFile.push(info.digest);
          return putBlobFromFile(path, info, skipVerify ? { ...opts, verify: async () => undefined } : opts);
        },
      });
    },
  } as ImageReference;
}

describe("kept blobs copied file to file", () => {
  let tmp: { path: string; cleanup: () => Promise<void> };
  let layout: string;
  let built: BuiltImage;
  let n = 0;
  const fresh = (): string => join(tmp.path, `out-${++n}`);
  const blobFile = (root: string, digest: string): string => join(root, "blobs", "sha256", digestHex(digest));

  before(async () => {
    tmp = await tempDir("imgcopy-file-copy-");
    const image = new MemoryImage();
    const tars = [await tarOf({ a: "alpha\n".repeat(5000) }), await tarOf({ b: "beta\n".repeat(70_000) })];
    built = addImage(image, { layers: [{ tar: tars[0]!, compression: "gzip" }, { tar: tars[1]!, compression: "none" }] });
    layout = join(tmp.path, "src");
    await copyImage(new MemoryReference("src", image), ociTransport.parseReference(`${layout}:t`), keepPlain);
  });
  after(() => tmp?.cleanup());

  /** A copy of the source layout in which `change` altered the first layer's blob file. */
  async function alteredSource(change: (file: string) => Promise<void>): Promise<string> {
    const copy = fresh();
    await copyImage(ociTransport.parseReference(`${layout}:t`), ociTransport.parseReference(`${copy}:t`), keepPlain);
    await change(blobFile(copy, built.manifest.layers[0]!.digest));
    return copy;
  }

  for (const to of ["oci", "dir"] as const) {
    const destRef = (path: string): ImageReference => (to === "oci" ? ociTransport.parseReference(`${path}:t`) : dirTransport.parseReference(path));
    const storedBlob = (root: string, digest: string): string => (to === "oci" ? blobFile(root, digest) : join(root, digestHex(digest)));

    it(`oci -> ${to}: both layers go by putBlobFromFile, byte-identical, mode 0644`, async () => {
      const out = fresh();
      const calls: Calls = { putBlob: [], putBlobFromFile: [] };
      const progress: ProgressEvent[] = [];
      await copyImage(ociTransport.parseReference(`${layout}:t`), watched(destRef(out), calls), { ...keepPlain, onProgress: (e) => progress.push(e) });
      const layers = built.manifest.layers.map((l) => l.digest);
      for (const l of built.manifest.layers) {
        const states = progress.filter((e) => e.digest === l.digest).map((e) => `${e.state} ${e.bytes}`);
        assert.deepEqual(states, ["start 0", `progress ${l.size}`, `done ${l.size}`], "progress as the copy is hashed");
      }
      assert.deepEqual(calls.putBlobFromFile.sort(), [...layers].sort());
      assert.deepEqual(calls.putBlob, [built.manifest.config.digest], "only the config is streamed");
      for (const digest of layers) {
        assert.deepEqual(await readFile(storedBlob(out, digest)), await readFile(blobFile(layout, digest)));
        assert.equal((await stat(storedBlob(out, digest))).mode & 0o777, 0o644 & ~process.umask());
      }
    });

    it(`oci -> ${to}: --verify-diffids inflates the gzip layer on the stream path; the plain one still goes file to file`, async () => {
      const calls: Calls = { putBlob: [], putBlobFromFile: [] };
      await copyImage(ociTransport.parseReference(`${layout}:t`), watched(destRef(fresh()), calls), { ...keepPlain, verifyDiffIds: true });
      assert.deepEqual(calls.putBlobFromFile, [built.manifest.layers[1]!.digest]);
      assert.ok(calls.putBlob.includes(built.manifest.layers[0]!.digest));
    });

    for (const [how, change] of [
      ["one byte changed", async (f: string) => {
        const bytes = await readFile(f);
        const at = bytes.length >> 1;
        bytes[at] = (bytes[at] ?? 0) ^ 0xff;
        await writeFile(f, bytes);
      }],
      ["one byte longer", (f: string) => appendFile(f, "x")],
      ["one byte shorter", async (f: string) => truncate(f, (await stat(f)).size - 1)],
    ] as const) {
      it(`oci -> ${to}: a layer file ${how} is refused naming the layer; nothing is written`, async () => {
        const source = await alteredSource(change);
        const out = fresh();
        const calls: Calls = { putBlob: [], putBlobFromFile: [] };
        const bad = built.manifest.layers[0]!;
        await assert.rejects(copyImage(ociTransport.parseReference(`${source}:t`), watched(destRef(out), calls), keepPlain), (err: Error) => {
          assert.ok(err instanceof DigestMismatchError, `${err.name}: ${err.message}`);
          assert.match(err.message, new RegExp(`layer ${bad.digest}`));
          if (how !== "one byte changed") assert.match(err.message, new RegExp(`expected size ${bad.size}, got size ${bad.size + (how === "one byte longer" ? 1 : -1)}`));
          return true;
        });
        assert.ok(calls.putBlobFromFile.includes(bad.digest), "the file path was taken");
        assert.equal(await readdir(tmp.path).then((names) => names.includes(`out-${n}`)), false, "no destination was created");
      });
    }

    it(`oci -> ${to}: a destination that stores the file without letting the engine verify it fails the copy`, async () => {
      const out = fresh();
      const calls: Calls = { putBlob: [], putBlobFromFile: [] };
      await assert.rejects(copyImage(ociTransport.parseReference(`${layout}:t`), watched(destRef(out), calls, true), keepPlain), (err: Error) => {
        assert.ok(err instanceof IOError, `${err.name}: ${err.message}`);
        assert.match(err.message, /without letting the engine verify it/);
        return true;
      });
      assert.equal(await readdir(tmp.path).then((names) => names.includes(`out-${n}`)), false, "no destination was created");
    });
  }
});
