// Chunked uploads (OCI-Chunk-Min-Length) against the real registry behind the fault proxy, which checks
// Content-Range as distribution 3 does: a chunk whose answer is lost is sent again, the registry answers
// 416, and the upload resumes where the registry's Range (or the upload's status) says it is.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { copyImage } from "../../../src/copy/index.js";
import { isImgcopyError } from "../../../src/errors.js";
import { chunkSizeFrom, heldBytes, MAX_CHUNK } from "../../../transports/docker/chunked-upload.js";
import { parseDockerReference } from "../../../transports/docker/reference.js";
import { startFaultProxy, type FaultProxy } from "../../helpers/fault-proxy.js";
import { pullToOci, registryWithImage, type PushedImage } from "./registry-fixture.js";

const MIB = 1024 * 1024;
const UPLOADS = /\/blobs\/uploads\//;
const dockerRef = (text: string) => parseDockerReference(text.slice("docker:".length));

describe("docker:// chunked uploads: minimum chunk size and 416 recovery", () => {
  let fixture: PushedImage;
  let n = 0;
  before(async () => {
    fixture = await registryWithImage();
  });
  after(async () => {
    await fixture?.cleanup();
  });

  /** Pushes the fixture's image through a proxy that asks for 1 MiB chunks; `rules` adds faults first. */
  const pushChunked = async (rules: (proxy: FaultProxy) => void, retryTimes = 2): Promise<{ proxy: FaultProxy; repo: string; error?: unknown }> => {
    const proxy = await startFaultProxy({ port: fixture.registry.port });
    const repo = `chunked/resume-${++n}:1`;
    try {
      proxy.add({ method: "POST", path: /\/blobs\/uploads\/$/, fault: { kind: "add-header", header: `OCI-Chunk-Min-Length: ${MIB}` }, times: 100 });
      rules(proxy);
      const ctx = { ...fixture.ctx, retryTimes, retryDelayMs: 10 };
      try {
        await copyImage(dockerRef(fixture.ref), dockerRef(`docker://${proxy.host}/${repo}`), { sourceCtx: fixture.ctx, destCtx: ctx });
        return { proxy, repo };
      } catch (error) {
        return { proxy, repo, error };
      }
    } finally {
      await proxy.stop();
    }
  };
  const layerPatches = (proxy: FaultProxy): string[] => proxy.seen.filter((r) => r.method === "PATCH" && r.contentRange !== undefined).map((r) => `${r.contentRange} ${r.fault ?? "ok"}`);

  for (const withRange of [true, false]) {
    it(`resumes after a 416 from the registry's ${withRange ? "Range header" : "upload status (GET)"} when a chunk's answer was lost`, async () => {
      const { proxy, repo, error } = await pushChunked((p) => {
        // The second chunk reaches the registry, its answer is cut: the client sends it again.
        p.add({ method: "PATCH", path: UPLOADS, header: /^content-range: [1-9]\d*-/i, fault: { kind: "cut", afterBytes: 1 }, times: 1 });
        p.add({ method: "PATCH", path: UPLOADS, fault: { kind: "enforce-content-range", withRange }, times: 1000 });
      });
      assert.equal(error, undefined, `push failed: ${String(error)}; PATCHes: ${layerPatches(proxy).join(", ")}`);
      const patches = layerPatches(proxy);
      const cut = patches.find((p) => p.endsWith(" cut"))?.split(" ")[0];
      assert.ok(cut, `a chunk's answer was cut: ${patches.join(", ")}`);
      assert.ok(patches.includes(`${cut} enforce-content-range`), `the resent chunk got a 416: ${patches.join(", ")}`);
      const held = Number(cut.split("-")[1]) + 1;
      assert.ok(patches.some((p) => p.startsWith(`${held}-`) && p.endsWith(" ok")), `then the upload went on from byte ${held}: ${patches.join(", ")}`);
      if (!withRange) assert.ok(proxy.seen.some((r) => r.method === "GET" && UPLOADS.test(r.path)), "the upload's status was asked for");
      assert.equal(await pullToOci(`docker://${fixture.registry.host}/${repo}`, join(fixture.work.path, `out-${n}`), fixture.ctx), fixture.built.digest);
    });
  }

  it("sends every chunk but the last at the registry's minimum or more, each Content-Range following the previous", async () => {
    const { proxy, error } = await pushChunked((p) => p.add({ method: "PATCH", path: UPLOADS, fault: { kind: "enforce-content-range", withRange: true }, times: 1000 }));
    assert.equal(error, undefined, String(error));
    const layer = proxy.seen.filter((r) => r.method === "PATCH" && r.contentRange !== undefined).map((r) => r.contentRange!.split("-").map(Number) as [number, number]);
    const starts = layer.filter(([start]) => start === 0).length;
    assert.equal(starts, 2, `two uploads (config, layer): ${JSON.stringify(layer)}`);
    const first = layer.findIndex(([s, e]) => s === 0 && e + 1 >= MIB);
    const rest = layer.slice(first + 1);
    const big = [layer[first]!, ...rest.slice(0, rest.findIndex(([s]) => s === 0) >>> 0)];
    assert.ok(big.length >= 3, `the 3 MiB layer went up in chunks: ${JSON.stringify(layer)}`);
    for (let i = 0; i < big.length - 1; i++) {
      assert.ok(big[i]![1] + 1 - big[i]![0] >= MIB, `chunk ${i} is at least the minimum: ${JSON.stringify(big)}`);
      assert.equal(big[i + 1]![0], big[i]![1] + 1, `chunk ${i + 1} follows chunk ${i}`);
    }
    assert.ok(!proxy.seen.some((r) => r.fault === "enforce-content-range"), "no 416 when nothing went wrong");
  });

  it("chunk sizes: the registry's minimum (never less than 1 MiB), a minimum over 64 MiB refused in one line, and Range parsing", () => {
    assert.equal(chunkSizeFrom(undefined), undefined);
    assert.equal(chunkSizeFrom("0"), undefined);
    assert.equal(chunkSizeFrom("1000"), MIB);
    assert.equal(chunkSizeFrom(String(5 * MIB)), 5 * MIB);
    assert.throws(
      () => chunkSizeFrom(String(MAX_CHUNK + 1), "docker://h/r:1: uploading blob"),
      (err: unknown) => isImgcopyError(err) && /^docker:\/\/h\/r:1: uploading blob: the registry asks for upload chunks of at least 67108865 bytes/.test((err as Error).message),
    );
    assert.equal(heldBytes("0-1048575"), MIB);
    assert.equal(heldBytes("bytes=0-9"), 10);
    assert.equal(heldBytes(undefined), undefined);
    assert.equal(heldBytes("5-9"), undefined);
  });
});
