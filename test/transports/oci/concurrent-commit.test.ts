// Regression test for the Go implementation's index.json race: copies that commit into one layout
// at the same moment must all keep their tags (lock + re-read of index.json in commit()).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import ociTransport from "../../../transports/oci/index.js";
import { buildScratchImages, feedImage, skopeoCopy, skopeoInspect, type ScratchImages } from "../scratch-images.js";

const WRITER = fileURLToPath(new URL("./concurrent-writer.ts", import.meta.url));
let fx: ScratchImages;
let src: string;

before(async () => {
  fx = await buildScratchImages();
  src = join(fx.dir, "src");
  await skopeoCopy(fx.ref(2), `oci:${src}`);
});
after(() => fx?.cleanup());

interface IndexJson {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

async function tagsOf(layout: string): Promise<string[]> {
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as IndexJson;
  return index.manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"] ?? "").sort();
}

/** Starts one writer per tag, waits until all are ready to commit, then lets them commit at once. */
async function raceWriters(dest: string, tags: string[]): Promise<void> {
  const children: ChildProcess[] = tags.map((tag) =>
    spawn(process.execPath, ["--import", "tsx", WRITER, src, dest, tag], { stdio: ["pipe", "pipe", "pipe"] }),
  );
  const stderr = children.map((c) => {
    let text = "";
    c.stderr!.on("data", (d: Buffer) => (text += d.toString()));
    return () => text;
  });
  const exits = children.map((c) => once(c, "exit") as Promise<[number | null]>);
  await Promise.all(
    children.map(async (c, i) => {
      const lines = createInterface({ input: c.stdout! });
      const first = await Promise.race([once(lines, "line"), exits[i]!.then(() => [undefined])]);
      assert.equal(first[0], "ready", `writer ${tags[i]} did not get ready: ${stderr[i]!()}`);
    }),
  );
  for (const c of children) c.stdin!.write("go\n");
  const codes = await Promise.all(exits);
  codes.forEach(([code], i) => assert.equal(code, 0, `writer ${tags[i]} failed: ${stderr[i]!()}`));
}

test("writers in separate processes committing at once into one layout all keep their tags", async () => {
  const dest = join(fx.dir, "shared");
  await skopeoCopy(fx.ref(1), `oci:${dest}:base`);
  const expected = ["base"];
  for (let round = 0; round < 2; round++) {
    const tags = Array.from({ length: 6 }, (_, i) => `r${round}-w${i}`);
    await raceWriters(dest, tags);
    expected.push(...tags);
  }
  assert.deepEqual(await tagsOf(dest), expected.sort());
  for (const tag of ["base", "r0-w0", "r1-w5"]) {
    const inspected = await skopeoInspect(`oci:${dest}:${tag}`);
    assert.equal(inspected.Architecture, "amd64");
  }
  assert.deepEqual((await readdir(dest)).sort(), ["blobs", "index.json", "oci-layout"], "no lock or temp files left");
});

test("writers racing to create a new layout all keep their tags", async () => {
  const dest = join(fx.dir, "new-layout");
  const tags = Array.from({ length: 5 }, (_, i) => `w${i}`);
  await raceWriters(dest, tags);
  assert.deepEqual(await tagsOf(dest), tags);
  await skopeoInspect(`oci:${dest}:w3`);
});

test("destinations in one process committing at once all keep their tags", async () => {
  const dest = join(fx.dir, "in-process");
  const tags = Array.from({ length: 8 }, (_, i) => `p${i}`);
  const writers = await Promise.all(
    tags.map(async (tag) => {
      const source = await ociTransport.parseReference(src).newImageSource({});
      const destination = await ociTransport.parseReference(`${dest}:${tag}`).newImageDestination({});
      await feedImage(source, destination, { noCommit: true, editManifest: (m) => ({ ...m, annotations: { writer: tag } }) });
      return destination;
    }),
  );
  await Promise.all(writers.map((w) => w.commit()));
  await Promise.all(writers.map((w) => w.close()));
  assert.deepEqual(await tagsOf(dest), tags);
});
