// inspectImage against what skopeo inspect prints for the same buildah-made images.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { goArch } from "../src/manifest/choose-instance.js";
import { goTimeText, inspectImage, renderInspectResult, type InspectResult, type InspectSummary } from "../src/inspect.js";
import { run, tempDir } from "./helpers/tools.js";
import { BuildahStore } from "./copy/buildah-store.js";
import { OciLayoutReference } from "./copy/oci-layout-ends.js";

function summaryOf(result: InspectResult): InspectSummary {
  assert.equal(result.kind, "json");
  return (result as { value: InspectSummary }).value;
}

async function skopeo(...args: string[]): Promise<string> {
  return (await run("skopeo", ["inspect", ...args])).stdout;
}

describe("inspectImage", () => {
  let tmp: { path: string; cleanup: () => Promise<void> };
  let single: string;
  let multi: string;

  before(async () => {
    tmp = await tempDir();
    const store = new BuildahStore(join(tmp.path, "store"));
    await store.makeImage("localhost/insp", {
      files: { "a.txt": "a\n" },
      labels: { zeta: "last", alpha: "first", html: "<b>&</b>" },
      env: ["FOO=bar", "PATH=/bin"],
      arch: goArch(),
    });
    single = join(tmp.path, "single");
    await store.push("localhost/insp", `oci:${single}:latest`);
    await store.buildah("manifest", "create", "localhost/insp-list");
    await store.buildah("manifest", "add", "localhost/insp-list", "containers-storage:localhost/insp");
    multi = join(tmp.path, "multi");
    await store.buildah("manifest", "push", "-q", "--all", "localhost/insp-list", `oci:${multi}`);
  });

  after(async () => {
    await tmp.cleanup();
  });

  it("prints byte for byte what skopeo 1.9.3 inspect prints (field order, escaping, times, no LayersData)", async () => {
    const ours = summaryOf(await inspectImage(new OciLayoutReference(single), {}));
    const theirs = await skopeo(`oci:${single}:latest`);
    assert.equal(Buffer.from(renderInspectResult({ kind: "json", value: ours })).toString(), theirs);
    assert.deepEqual(ours.Labels, { alpha: "first", html: "<b>&</b>", "io.buildah.version": ours.Labels!["io.buildah.version"]!, zeta: "last" });
  });

  it("--raw gives the manifest bytes, --config the config, --config --raw its bytes", async () => {
    const ref = new OciLayoutReference(single);
    const raw = await inspectImage(ref, { raw: true });
    assert.equal(raw.kind, "bytes");
    assert.equal(Buffer.from(renderInspectResult(raw)).toString(), await skopeo("--raw", `oci:${single}:latest`));
    const config = await inspectImage(ref, { config: true });
    assert.equal(Buffer.from(renderInspectResult(config)).toString(), await skopeo("--config", `oci:${single}:latest`));
    const rawConfig = await inspectImage(ref, { config: true, raw: true });
    assert.equal(Buffer.from(renderInspectResult(rawConfig)).toString(), await skopeo("--config", "--raw", `oci:${single}:latest`));
  });

  it("for an index: the index's digest, this platform's image for the rest", async () => {
    const ref = new OciLayoutReference(multi);
    const ours = summaryOf(await inspectImage(ref, {}));
    const theirs = JSON.parse(await skopeo(`oci:${multi}`)) as InspectSummary;
    assert.equal(ours.Digest, theirs.Digest);
    assert.deepEqual(ours.Layers, theirs.Layers);
    assert.deepEqual(ours.Env, theirs.Env);
    assert.equal(ours.Architecture, goArch());
    const raw = await inspectImage(ref, { raw: true });
    assert.equal(Buffer.from(renderInspectResult(raw)).toString(), await skopeo("--raw", `oci:${multi}`));
  });

  it("writes times as Go does", () => {
    assert.equal(goTimeText("2024-01-02T03:04:05.123400Z"), "2024-01-02T03:04:05.1234Z");
    assert.equal(goTimeText("2024-01-02T03:04:05.000Z"), "2024-01-02T03:04:05Z");
    assert.equal(goTimeText("2024-01-02T03:04:05.5+02:00"), "2024-01-02T03:04:05.5+02:00");
  });
});
