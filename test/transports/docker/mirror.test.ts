// Pull mirrors from registries.conf: a docker-registry pull-through cache (proxy.remoteurl) in front of
// the primary is asked first; when the mirror is down the primary serves the pull; pushes never use it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { copyImage } from "../../../src/copy/index.js";
import type { SystemContext } from "../../../src/types.js";
import { parseDockerReference } from "../../../transports/docker/reference.js";
import { startFaultProxy, type FaultProxy } from "../../helpers/fault-proxy.js";
import { startRegistry, type RegistryServer } from "../../helpers/registry-server.js";
import { pullToOci, registryWithImage, type PushedImage } from "./registry-fixture.js";

describe("docker:// pull mirrors (registries.conf)", () => {
  let primary: PushedImage;
  let mirror: RegistryServer;
  let mirrorFront: FaultProxy;
  let ctx: SystemContext;
  let n = 0;

  before(async () => {
    primary = await registryWithImage(256 * 1024, "mirrored/img:1");
    mirror = await startRegistry({ proxyRemoteUrl: `http://${primary.registry.host}` });
    mirrorFront = await startFaultProxy({ port: mirror.port });
    const conf = join(primary.work.path, "registries.conf");
    await writeFile(
      conf,
      `[[registry]]\nprefix = "${primary.registry.host}"\nlocation = "${primary.registry.host}"\ninsecure = true\n\n` +
        `[[registry.mirror]]\nlocation = "${mirrorFront.host}"\ninsecure = true\n`,
    );
    ctx = { ...primary.ctx, registriesConfPath: conf };
  });
  after(async () => {
    await mirrorFront?.stop();
    await mirror?.stop();
    await primary?.cleanup();
  });

  it("pulls through the mirror first", async () => {
    const digest = await pullToOci(primary.ref, join(primary.work.path, `m-${++n}`), ctx);
    assert.equal(digest, primary.built.digest);
    const paths = mirrorFront.seen.map((r) => `${r.method} ${r.path}`);
    assert.ok(paths.some((p) => p.startsWith("GET /v2/mirrored/img/manifests/1")), paths.join("\n"));
    assert.equal(mirrorFront.seen.filter((r) => r.path.includes("/blobs/")).length, 2, "config and layer came from the mirror");
  });

  it("falls back to the primary when the mirror fails", async () => {
    mirrorFront.add({ path: /^\/v2\//, fault: { kind: "status", status: 502 }, times: 1000 });
    const digest = await pullToOci(primary.ref, join(primary.work.path, `m-${++n}`), ctx);
    assert.equal(digest, primary.built.digest);
  });

  it("pushes to the primary only", async () => {
    const before = mirrorFront.seen.length;
    const dest = `docker://${primary.registry.host}/mirrored/pushed:1`;
    await copyImage(parseDockerReference(primary.ref.slice("docker:".length)), parseDockerReference(dest.slice("docker:".length)), {
      sourceCtx: primary.ctx,
      destCtx: ctx,
    });
    assert.equal(mirrorFront.seen.length, before, "the mirror saw nothing of the push");
  });
});
