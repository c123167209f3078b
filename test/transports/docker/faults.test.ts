// docker:// against a real registry behind a fault-injecting proxy: cut bodies resume with Range,
// a Range answered with 200 is refused, resets and stalls are retried per --retry-times, 429/503
// honour Retry-After (manifest PUT included), 404 is never retried.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { copyImage } from "../../../src/copy/index.js";
import { isImgcopyError } from "../../../src/errors.js";
import { parseDockerReference } from "../../../transports/docker/reference.js";
import { startFaultProxy, type FaultProxy } from "../../helpers/fault-proxy.js";
import { imgcopy, stderrLines } from "../../cli/run-imgcopy.js";
import { ociIndexDigests, pullToOci, registryWithImage, type PushedImage } from "./registry-fixture.js";

const BLOB_PATH = /\/blobs\/sha256:/;
const dockerRef = (text: string) => parseDockerReference(text.slice("docker:".length));
const MANIFEST_PATH = /\/manifests\//;

describe("docker:// through a fault-injecting proxy", () => {
  let fixture: PushedImage;
  let proxy: FaultProxy;
  let n = 0;
  const viaProxy = (): string => fixture.ref.replace(fixture.registry.host, proxy.host);
  const outDir = (): string => join(fixture.work.path, `out-${++n}`);
  const layerDigest = (): string => fixture.built.manifest.layers[0]!.digest;

  before(async () => {
    fixture = await registryWithImage();
  });
  after(async () => {
    await fixture?.cleanup();
  });
  // A fresh proxy per test: rules never leak from one test to the next.
  const withProxy = async (fn: () => Promise<void>): Promise<void> => {
    proxy = await startFaultProxy({ port: fixture.registry.port });
    try {
      await fn();
    } finally {
      await proxy.stop();
    }
  };

  it("resumes a blob whose connection is cut in the middle with Range, and the image is intact", () =>
    withProxy(async () => {
      proxy.add({ method: "GET", path: new RegExp(layerDigest()), withRange: false, fault: { kind: "cut", afterBytes: 1024 * 1024 }, times: 1 });
      const dir = outDir();
      assert.equal(await pullToOci(viaProxy(), dir, fixture.ctx), fixture.built.digest);
      const ranged = proxy.seen.filter((r) => r.path.includes(layerDigest()) && r.range !== undefined);
      assert.equal(ranged.length, 1, `one resumed request: ${JSON.stringify(proxy.seen)}`);
      const from = Number(/^bytes=(\d+)-$/.exec(ranged[0]!.range!)?.[1]);
      assert.ok(from > 0 && from <= 1024 * 1024, `resumed from the byte it got to (${ranged[0]!.range})`);
      assert.deepEqual(await ociIndexDigests(dir), [fixture.built.digest]);
    }));

  it("refuses a resume answered with 200 (the whole blob again), and writes nothing", () =>
    withProxy(async () => {
      proxy.add({ method: "GET", path: new RegExp(layerDigest()), withRange: false, fault: { kind: "cut", afterBytes: 512 * 1024 }, times: 1 });
      proxy.add({ method: "GET", path: BLOB_PATH, withRange: true, fault: { kind: "range-as-200" }, times: 100 });
      const dir = outDir();
      await assert.rejects(pullToOci(viaProxy(), dir, fixture.ctx), (err: unknown) => {
        assert.ok(isImgcopyError(err), String(err));
        assert.match((err as Error).message, /cannot resume it \(answered HTTP 200/);
        assert.ok(!(err as Error).message.includes("\n"));
        return true;
      });
      assert.ok(!existsSync(join(dir, "index.json")), "no image in the destination");
    }));

  it("retries a reset connection when --retry-times allows, and fails with one network error when not", () =>
    withProxy(async () => {
      proxy.add({ method: "GET", path: MANIFEST_PATH, fault: { kind: "reset" }, times: 1 });
      await assert.rejects(pullToOci(viaProxy(), outDir(), fixture.ctx), (err: unknown) => isImgcopyError(err) && err.code === "ENETWORK");
      proxy.add({ method: "GET", path: MANIFEST_PATH, fault: { kind: "reset" }, times: 2 });
      const digest = await pullToOci(viaProxy(), outDir(), { ...fixture.ctx, retryTimes: 2, retryDelayMs: 10 });
      assert.equal(digest, fixture.built.digest);
      assert.equal(proxy.seen.filter((r) => r.fault === "reset").length, 3);
    }));

  it("waits out 429 and 503 with Retry-After on GET, HEAD and the manifest PUT, whatever --retry-times says", () =>
    withProxy(async () => {
      proxy.add({ method: "GET", path: MANIFEST_PATH, fault: { kind: "status", status: 429, retryAfter: 1 }, times: 2 });
      assert.equal(await pullToOci(viaProxy(), outDir(), fixture.ctx), fixture.built.digest);
      proxy.add({ method: "HEAD", path: BLOB_PATH, fault: { kind: "status", status: 503, retryAfter: 0 }, times: 1 });
      proxy.add({ method: "PUT", path: MANIFEST_PATH, fault: { kind: "status", status: 429, retryAfter: 1 }, times: 2 });
      const dest = `${proxy.host}/faults/retagged:2`;
      await copyImage(parseDockerReference(`//${fixture.registry.host}/faults/img:1`), parseDockerReference(`//${dest}`), {
        sourceCtx: fixture.ctx,
        destCtx: fixture.ctx,
      });
      const puts = proxy.seen.filter((r) => r.method === "PUT" && MANIFEST_PATH.test(r.path));
      assert.deepEqual(puts.map((r) => r.fault), ["status", "status", undefined], "two 429s, then the PUT that lands");
      assert.equal(await pullToOci(`docker://${fixture.registry.host}/faults/retagged:2`, outDir(), fixture.ctx), fixture.built.digest);
    }));

  it("times out a stalled connection instead of hanging, then retries it", () =>
    withProxy(async () => {
      const ctx = { ...fixture.ctx, dockerStallTimeoutMs: 3000 }; // short, yet long enough for a busy machine's registry
      proxy.add({ method: "GET", path: BLOB_PATH, fault: { kind: "stall" }, times: 1 });
      await assert.rejects(pullToOci(viaProxy(), outDir(), ctx), (err: unknown) => {
        assert.ok(isImgcopyError(err) && err.code === "ENETWORK", String(err));
        assert.match((err as Error).message, /stalled|timeout/);
        return true;
      });
      proxy.add({ method: "GET", path: BLOB_PATH, fault: { kind: "stall" }, times: 1 });
      assert.equal(await pullToOci(viaProxy(), outDir(), { ...ctx, retryTimes: 1, retryDelayMs: 10 }), fixture.built.digest);
    }));

  it("restarts a push whose streamed upload is reset, from a re-read source, when --retry-times allows", () =>
    withProxy(async () => {
      const dest = `docker://${proxy.host}/faults/restarted:1`;
      const args = ["copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false", "--retry-delay", "10ms", fixture.ref, dest];
      proxy.add({ method: "PATCH", path: /\/blobs\/uploads\//, fault: { kind: "reset" }, times: 1 });
      const once = await imgcopy(args);
      assert.equal(once.code, 9, `a network failure without retries: ${once.stderr}`);
      assert.equal(stderrLines(once).length, 1, once.stderr);
      proxy.add({ method: "PATCH", path: /\/blobs\/uploads\//, fault: { kind: "reset" }, times: 1 });
      const retried = await imgcopy(["--retry-times", "2", ...args]);
      assert.equal(retried.code, 0, retried.stderr);
      assert.match(retried.stderr, /retrying in/);
      assert.equal(await pullToOci(`docker://${fixture.registry.host}/faults/restarted:1`, outDir(), fixture.ctx), fixture.built.digest);
    }));

  it("uploads in chunks with Content-Range when the registry asks for them (OCI-Chunk-Min-Length), retrying a throttled chunk", () =>
    withProxy(async () => {
      proxy.add({ method: "POST", path: /\/blobs\/uploads\/$/, fault: { kind: "add-header", header: "OCI-Chunk-Min-Length: 1048576" }, times: 100 });
      proxy.add({ method: "PATCH", path: /\/blobs\/uploads\//, fault: { kind: "status", status: 429, retryAfter: 0 }, times: 1 });
      const dest = `docker://${proxy.host}/faults/chunked:1`;
      await copyImage(dockerRef(fixture.ref), dockerRef(dest), { sourceCtx: fixture.ctx, destCtx: fixture.ctx });
      const patches = proxy.seen.filter((r) => r.method === "PATCH" && r.fault === undefined);
      assert.ok(patches.length >= 4, `the 3 MiB layer went up in 1 MiB chunks (plus the config): ${patches.length} PATCHes`);
      assert.equal(await pullToOci(`docker://${fixture.registry.host}/faults/chunked:1`, outDir(), fixture.ctx), fixture.built.digest);
    }));

  it("fails a push whose registry stops reading the upload, instead of hanging", () =>
    withProxy(async () => {
      proxy.add({ method: "PATCH", path: /\/blobs\/uploads\//, fault: { kind: "stall" }, times: 100 });
      const dest = dockerRef(`docker://${proxy.host}/faults/stalled-push:1`);
      const ctx = { ...fixture.ctx, dockerStallTimeoutMs: 2000 };
      await assert.rejects(copyImage(dockerRef(fixture.ref), dest, { sourceCtx: fixture.ctx, destCtx: ctx }), (err: unknown) => {
        assert.ok(isImgcopyError(err) && err.code === "ENETWORK", String(err));
        assert.match((err as Error).message, /stalled/);
        return true;
      });
    }));

  it("never retries a 404: one request, one line naming the reference and the registry's code", () =>
    withProxy(async () => {
      const missing = viaProxy().replace(":1", ":nope");
      await assert.rejects(pullToOci(missing, outDir(), { ...fixture.ctx, retryTimes: 3, retryDelayMs: 10 }), (err: unknown) => {
        assert.ok(isImgcopyError(err) && err.code === "ENOTFOUND", String(err));
        assert.match((err as Error).message, /faults\/img:nope.*HTTP 404.*MANIFEST_UNKNOWN/);
        return true;
      });
      assert.equal(proxy.seen.filter((r) => MANIFEST_PATH.test(r.path)).length, 1);
    }));
});
