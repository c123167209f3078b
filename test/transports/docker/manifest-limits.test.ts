// Manifests a registry should never send: larger than 4 MiB (declared, or streamed without a length:
// reading stops at the cap) and a malformed Docker schema 1 one — each refused with one line naming the
// reference. (Well-formed schema 1 is read converted: schema1.test.ts.)
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { cleanEnv, imgcopy, stderrLines } from "../../cli/run-imgcopy.js";
import { tempDir } from "../../helpers/tools.js";
import { startOwnRegistry, type OwnRegistry } from "./own-registry-server.js";

const LIMIT = 4 * 1024 * 1024;
const ENDLESS_BYTES = 64 * 1024 * 1024;

const SCHEMA1 = JSON.stringify({
  schemaVersion: 1,
  name: "old/img",
  tag: "1",
  architecture: "amd64",
  // Two layers but one history entry: no way to tell which history goes with which layer.
  fsLayers: [{ blobSum: `sha256:${"a".repeat(64)}` }, { blobSum: `sha256:${"b".repeat(64)}` }],
  history: [{ v1Compatibility: "{}" }],
});

describe("docker:// manifests refused: oversize and malformed schema 1", () => {
  let server: OwnRegistry;
  let home: { path: string; cleanup: () => Promise<void> };
  /** Bytes the endless manifest got out before the client hung up, and whether it did. */
  const endless = { written: 0, hungUp: false };

  before(async () => {
    home = await tempDir("imgcopy-manifest-limits-");
    server = await startOwnRegistry((req, res) => {
      const path = req.url ?? "";
      if (path === "/v2/big/declared/manifests/1") {
        res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": String(LIMIT + 1) });
        res.end(Buffer.alloc(LIMIT + 1, 0x20));
        return true;
      }
      if (path === "/v2/big/endless/manifests/1") {
        // No Content-Length (chunked): only the bytes tell.
        res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json" });
        const piece = Buffer.alloc(64 * 1024, 0x20);
        res.on("close", () => (endless.hungUp = endless.written < ENDLESS_BYTES));
        const pump = (): void => {
          while (endless.written < ENDLESS_BYTES && !res.destroyed) {
            endless.written += piece.length;
            if (!res.write(piece)) return void res.once("drain", pump);
          }
          if (!res.destroyed) res.end();
        };
        pump();
        return true;
      }
      const schema1 = /^\/v2\/old\/(prettyjws|json|guessed)\/manifests\/1$/.exec(path);
      if (schema1) {
        const type = {
          prettyjws: "application/vnd.docker.distribution.manifest.v1+prettyjws",
          json: "application/vnd.docker.distribution.manifest.v1+json",
          guessed: "application/json",
        }[schema1[1]!];
        res.writeHead(200, { "content-type": type!, "content-length": String(Buffer.byteLength(SCHEMA1)) }).end(SCHEMA1);
        return true;
      }
      return false;
    });
  });
  after(async () => {
    await server?.stop();
    await home?.cleanup();
  });

  const inspect = (repo: string) => imgcopy(["inspect", "--tls-verify=false", `docker://${server.host}/${repo}:1`], { env: cleanEnv(home.path) });

  it("refuses a manifest whose Content-Length is over 4 MiB, in one line naming the reference", async () => {
    const r = await inspect("big/declared");
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, "");
    assert.deepEqual(stderrLines(r).length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`docker://${server.host}/big/declared:1: manifest 1: ${LIMIT + 1} bytes is larger than the ${LIMIT}-byte limit`));
  });

  it("stops reading a manifest streamed without a length once it passes 4 MiB", async () => {
    const r = await inspect("big/endless");
    assert.notEqual(r.code, 0);
    assert.deepEqual(stderrLines(r).length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`docker://${server.host}/big/endless:1: manifest 1: larger than the ${LIMIT}-byte limit`));
    assert.ok(endless.hungUp, `the client hung up before the server's ${ENDLESS_BYTES} bytes (it sent ${endless.written})`);
  });

  for (const variant of ["prettyjws", "json", "guessed"]) {
    it(`refuses a malformed schema 1 manifest (${variant}) in one line naming the reference`, async () => {
      const r = await inspect(`old/${variant}`);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, "");
      assert.deepEqual(stderrLines(r).length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`docker://${server.host}/old/${variant}:1: manifest 1: Docker schema 1 manifest: fsLayers and history must be lists of the same, non-zero length`));
    });
  }
});
