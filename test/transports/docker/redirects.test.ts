// Blob redirects: a registry with htpasswd auth redirects blob GETs (307) to "blob storage" on another
// origin (a second registry serving the same storage without auth); the credentials never go there.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { copyImage } from "../../../src/copy/index.js";
import { parseDockerReference } from "../../../transports/docker/reference.js";
import { MemoryImage, MemoryReference } from "../../copy/memory-transport.js";
import { addImage, tarOf, type BuiltImage } from "../../copy/test-images.js";
import { startFaultProxy, type FaultProxy } from "../../helpers/fault-proxy.js";
import { startRegistry, type RegistryServer } from "../../helpers/registry-server.js";
import { run, tempDir } from "../../helpers/tools.js";
import { plainHttpContext, pullToOci } from "./registry-fixture.js";

const USER = "pusher";
const PASS = "s3cret-pass";

describe("docker:// blob redirects to another origin", () => {
  let work: { path: string; cleanup: () => Promise<void> };
  let authed: RegistryServer;
  let storage: RegistryServer;
  let front: FaultProxy;
  let blobStore: FaultProxy;
  let built: BuiltImage;

  before(async () => {
    work = await tempDir("imgcopy-docker-redirect-");
    const htpasswd = join(work.path, "htpasswd");
    await writeFile(htpasswd, (await run("htpasswd", ["-Bbn", USER, PASS])).stdout);
    authed = await startRegistry({ htpasswdFile: htpasswd });
    storage = await startRegistry({ storageDir: authed.storageDir });
    front = await startFaultProxy({ port: authed.port });
    blobStore = await startFaultProxy({ port: storage.port });
    const image = new MemoryImage();
    built = addImage(image, { layers: [{ tar: await tarOf({ "f.txt": "redirected layer" }), compression: "gzip" }] });
    const ctx = plainHttpContext(work.path, { dockerAuth: { username: USER, password: PASS } });
    await copyImage(new MemoryReference("src", image), parseDockerReference(`//${authed.host}/redir/img:1`), { destCtx: ctx });
  });
  after(async () => {
    await front?.stop();
    await blobStore?.stop();
    await storage?.stop();
    await authed?.stop();
    await work?.cleanup();
  });

  it("follows the 307 and drops Authorization on the other origin", async () => {
    front.add({ method: "GET", path: /\/blobs\/sha256:/, fault: { kind: "redirect", origin: `http://${blobStore.host}` }, times: 100 });
    const ctx = plainHttpContext(work.path, { dockerAuth: { username: USER, password: PASS } });
    const digest = await pullToOci(`docker://${front.host}/redir/img:1`, join(work.path, "out"), ctx);
    assert.equal(digest, built.digest);
    const redirected = front.seen.filter((r) => r.fault === "redirect");
    assert.equal(redirected.length, 2, "config and layer redirected");
    assert.ok(redirected.every((r) => r.authorization), "the registry itself got the credentials");
    const atStorage = blobStore.seen.filter((r) => r.path.includes("/blobs/"));
    assert.equal(atStorage.length, 2);
    assert.ok(atStorage.every((r) => !r.authorization), `no Authorization on the other origin: ${JSON.stringify(atStorage)}`);
  });
});
