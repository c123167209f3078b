// Docker schema 1 manifests (v1+json, v1+prettyjws, and plain JSON) are read converted, as
// containers/image reads them: a config made from the history (throwaway entries are empty layers),
// DiffIDs computed while copying, each layer held to its blobSum; a signed one is found by its
// payload's digest. Served by a registry-shaped server of the test's own (docker-registry 2.8 no
// longer takes schema 1 pushes).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { copyImage } from "../../../src/copy/index.js";
import { sha256 } from "../../../src/digest.js";
import { parseDockerReference } from "../../../transports/docker/reference.js";
import { parseOciReference } from "../../../transports/oci/reference.js";
import { tarOf } from "../../copy/test-images.js";
import { run, tempDir } from "../../helpers/tools.js";
import { startOwnRegistry, type OwnRegistry } from "./own-registry-server.js";
import { plainHttpContext } from "./registry-fixture.js";

const TYPES: Record<string, string> = {
  json: "application/vnd.docker.distribution.manifest.v1+json",
  prettyjws: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  guessed: "application/json",
};

interface Served {
  bytes: Buffer;
  /** The digest a registry gives it (a signed one: its payload's). */
  digest: string;
}

describe("docker:// schema 1 manifests are read converted to schema 2", () => {
  let server: OwnRegistry;
  let work: { path: string; cleanup: () => Promise<void> };
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Served>();
  let tars: Buffer[] = [];
  let gz: string[] = [];

  before(async () => {
    work = await tempDir("imgcopy-schema1-");
    tars = [await tarOf({ a: "base layer" }), await tarOf({ b: "top layer" })];
    const layerBlobs = tars.map((t) => gzipSync(t));
    const empty = gzipSync(Buffer.alloc(1024));
    for (const b of [...layerBlobs, empty]) blobs.set(sha256(b), b);
    gz = layerBlobs.map((b) => sha256(b));
    const v1 = (o: Record<string, unknown>): { v1Compatibility: string } => ({ v1Compatibility: JSON.stringify(o) });
    const doc = {
      schemaVersion: 1,
      name: "old/img",
      tag: "1",
      architecture: "amd64",
      // Top first, as schema 1 lists them.
      fsLayers: [{ blobSum: gz[1] }, { blobSum: sha256(empty) }, { blobSum: gz[0] }],
      history: [
        v1({
          id: "c", parent: "b", created: "2016-01-03T00:00:00Z", architecture: "amd64", os: "linux",
          container_config: { Cmd: ["/bin/sh", "-c", "echo b > /b"] }, config: { Cmd: ["sh"], Env: ["PATH=/bin"] }, Size: 10,
        }),
        v1({ id: "b", parent: "a", created: "2016-01-02T00:00:00Z", container_config: { Cmd: ["/bin/sh", "-c", "#(nop) ENV X=1"] }, throwaway: true }),
        v1({ id: "a", created: "2016-01-01T00:00:00Z", author: "someone", container_config: { Cmd: ["/bin/sh", "-c", "#(nop) ADD file:a in /"] } }),
      ],
    };
    const plain = Buffer.from(JSON.stringify(doc, null, 3));
    manifests.set("json", { bytes: plain, digest: sha256(plain) });
    manifests.set("guessed", { bytes: plain, digest: sha256(plain) });
    // A signed one as docker 1.x wrote it: the payload with "signatures" spliced in before its tail.
    const cut = plain.lastIndexOf("\n}");
    const header = Buffer.from(JSON.stringify({ formatLength: cut, formatTail: plain.subarray(cut).toString("base64url"), time: "2016-01-03T00:00:00Z" })).toString("base64url");
    const signatures = `,\n   "signatures": [{"header": {"alg": "ES256"}, "signature": "c2ln", "protected": "${header}"}]`;
    manifests.set("prettyjws", { bytes: Buffer.concat([plain.subarray(0, cut), Buffer.from(signatures), plain.subarray(cut)]), digest: sha256(plain) });
    // A layer whose bytes are not its blobSum.
    const lying = Buffer.from(JSON.stringify({ ...doc, fsLayers: [{ blobSum: gz[1] }, { blobSum: sha256(empty) }, { blobSum: sha256("other") }] }));
    manifests.set("lying", { bytes: lying, digest: sha256(lying) });
    blobs.set(sha256("other"), layerBlobs[0]!);

    server = await startOwnRegistry((req, res) => {
      const m = /^\/v2\/old\/(\w+)\/(manifests|blobs)\/(.+)$/.exec(req.url ?? "");
      if (!m) return false;
      if (m[2] === "manifests") {
        const served = manifests.get(m[1]!);
        if (!served || (m[3] !== "1" && m[3] !== served.digest)) return false;
        const type = TYPES[m[1]!] ?? TYPES.json!;
        res.writeHead(200, { "content-type": type, "content-length": String(served.bytes.length), "docker-content-digest": served.digest }).end(served.bytes);
        return true;
      }
      const blob = blobs.get(m[3]!);
      if (!blob) return false;
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(blob.length) }).end(req.method === "HEAD" ? undefined : blob);
      return true;
    });
  });
  after(async () => {
    await server?.stop();
    await work?.cleanup();
  });

  const pull = async (ref: string, name: string): Promise<{ dir: string; warnings: string[] }> => {
    const dir = join(work.path, name);
    const warnings: string[] = [];
    const ctx = plainHttpContext(work.path, { warn: (m) => void warnings.push(m) });
    await copyImage(parseDockerReference(ref.slice("docker:".length)), parseOciReference(`${dir}:x`), { sourceCtx: ctx });
    return { dir, warnings };
  };

  for (const variant of ["json", "prettyjws", "guessed"]) {
    it(`${variant}: the config comes from the history, the DiffIDs from the layers, the blobs are the registry's`, async () => {
      const { dir, warnings } = await pull(`docker://${server.host}/old/${variant}:1`, variant);
      assert.deepEqual(warnings, [`note: docker://${server.host}/old/${variant}:1: a Docker schema 1 manifest, read as schema 2 (config made from its history; the layers' DiffIDs are computed while copying)`]);
      const blob = async (digest: string): Promise<Record<string, unknown>> =>
        JSON.parse(await readFile(join(dir, "blobs", "sha256", digest.slice(7)), "utf8")) as Record<string, unknown>;
      const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
      const manifest = (await blob(index.manifests[0]!.digest)) as { config: { digest: string }; layers: { digest: string; size: number }[] };
      assert.deepEqual(manifest.layers.map((l) => l.digest), gz, "the two non-empty layers, base first, as the registry holds them");
      assert.deepEqual(manifest.layers.map((l) => l.size), gz.map((d) => blobs.get(d)!.length));
      const config = await blob(manifest.config.digest);
      assert.deepEqual(config.rootfs, { type: "layers", diff_ids: tars.map((t) => sha256(t)) });
      assert.deepEqual(config.history, [
        { created: "2016-01-01T00:00:00Z", author: "someone", created_by: "/bin/sh -c #(nop) ADD file:a in /" },
        { created: "2016-01-02T00:00:00Z", created_by: "/bin/sh -c #(nop) ENV X=1", empty_layer: true },
        { created: "2016-01-03T00:00:00Z", created_by: "/bin/sh -c echo b > /b" },
      ]);
      assert.deepEqual(config.config, { Cmd: ["sh"], Env: ["PATH=/bin"] });
      assert.equal(config.architecture, "amd64");
      assert.equal(config.os, "linux");
      for (const key of ["id", "parent", "Size", "throwaway"]) assert.ok(!(key in config), `no v1 key ${key}`);
      // skopeo reads the result as an image.
      const inspected = JSON.parse((await run("skopeo", ["inspect", `oci:${dir}:x`])).stdout) as { Layers: string[]; Env: string[] };
      assert.deepEqual(inspected.Layers, gz);
      assert.deepEqual(inspected.Env, ["PATH=/bin"]);
    });
  }

  it("a signed manifest is found by its payload's digest (signatures left out), as registries name it", async () => {
    const digest = manifests.get("prettyjws")!.digest;
    assert.notEqual(digest, sha256(manifests.get("prettyjws")!.bytes));
    await pull(`docker://${server.host}/old/prettyjws@${digest}`, "by-digest");
  });

  it("a layer whose bytes are not its blobSum fails the copy with a digest mismatch", async () => {
    await assert.rejects(pull(`docker://${server.host}/old/lying:1`, "lying"), (err: Error) => {
      assert.match(err.message, new RegExp(`blob ${sha256("other")}.*digest mismatch|digest mismatch.*${sha256("other")}`, "i"), err.message);
      return true;
    });
  });
});
