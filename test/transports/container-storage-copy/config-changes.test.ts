import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyConfigChanges, type RuntimeConfig } from "../../../transports/container-storage-copy/config-changes.js";
import { buildCommitConfig, commitTimestamp, formatTimestamp, goArch } from "../../../transports/container-storage-copy/config.js";
import { isImgcopyError } from "../../../src/errors.js";

function apply(changes: string[], start: RuntimeConfig = {}): { config: RuntimeConfig; warnings: string[] } {
  const config = structuredClone(start);
  const warnings: string[] = [];
  applyConfigChanges(config, changes, (m) => warnings.push(m));
  return { config, warnings };
}

describe("Dockerfile-style config changes", () => {
  it("sets ENV in KEY=VALUE and legacy KEY VALUE forms, replacing existing keys", () => {
    const { config } = apply(['ENV A=1 B="two words" C=x\\ y', "ENV LEGACY some value", "env A=again"], { Env: ["PATH=/bin", "A=0"] });
    assert.deepEqual(config.Env, ["PATH=/bin", "A=again", "B=two words", "C=x y", "LEGACY=some value"]);
  });

  it("takes CMD and ENTRYPOINT in JSON and shell forms, and INSTRUCTION=VALUE spelling", () => {
    assert.deepEqual(apply(['CMD ["a", "b c"]']).config.Cmd, ["a", "b c"]);
    assert.deepEqual(apply(["CMD echo hi && ls"]).config.Cmd, ["/bin/sh", "-c", "echo hi && ls"]);
    assert.deepEqual(apply(["ENTRYPOINT=/bin/tool"]).config.Entrypoint, ["/bin/sh", "-c", "/bin/tool"]);
    assert.deepEqual(apply(['entrypoint ["/e"]']).config.Entrypoint, ["/e"]);
    assert.equal(apply(["CMD"], { Cmd: ["x"] }).config.Cmd, null);
  });

  it("sets LABEL, EXPOSE, VOLUME, WORKDIR, USER and STOPSIGNAL", () => {
    const { config } = apply(
      ['LABEL a=b "with space"="v 2"', "EXPOSE 80 53/udp 8000-8002/TCP", 'VOLUME ["/v1", "/v2"]', "VOLUME /v3 /v4", "WORKDIR /w", "WORKDIR sub/dir", "USER 1000:1000", "STOPSIGNAL SIGINT"],
      { Labels: { keep: "me" } },
    );
    assert.deepEqual(config.Labels, { keep: "me", a: "b", "with space": "v 2" });
    assert.deepEqual(Object.keys(config.ExposedPorts!).sort(), ["53/udp", "80/tcp", "8000/tcp", "8001/tcp", "8002/tcp"]);
    assert.deepEqual(Object.keys(config.Volumes!), ["/v1", "/v2", "/v3", "/v4"]);
    assert.equal(config.WorkingDir, "/w/sub/dir");
    assert.equal(config.User, "1000:1000");
    assert.equal(config.StopSignal, "SIGINT");
  });

  it("warns that ONBUILD does not exist in an OCI config", () => {
    const { config, warnings } = apply(["ONBUILD RUN make"]);
    assert.deepEqual(config, {});
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /ONBUILD is not supported in an OCI image config and is ignored/);
  });

  for (const [change, pattern] of [
    ["RUN make", /unknown instruction "RUN" \(supported: CMD, ENTRYPOINT, ENV/],
    ["ENV", /ENV needs a value/],
    ["ENV A", /"A" needs a value/],
    ['LABEL a="unterminated', /unterminated " quote/],
    ["EXPOSE http", /"http" is not a port/],
    ["EXPOSE 70000", /not a valid port range/],
    ['CMD ["a", 1]', /must be a JSON array of strings/],
  ] as const) {
    it(`refuses ${JSON.stringify(change)} with a UsageError naming it`, () => {
      assert.throws(
        () => apply([change]),
        (err: unknown) => {
          assert.ok(isImgcopyError(err));
          assert.equal(err.code, "EUSAGE");
          assert.ok(err.message.startsWith(`change ${JSON.stringify(change)}: `), err.message);
          assert.match(err.message, pattern);
          return true;
        },
      );
    });
  }
});

describe("commit config pieces", () => {
  it("maps Node's arch names to GOARCH", () => {
    assert.equal(goArch("x64"), "amd64");
    assert.equal(goArch("ia32"), "386");
    assert.equal(goArch("arm64"), "arm64");
    assert.equal(goArch("ppc64"), "ppc64le");
  });

  it("picks the created time: commit timestamp, then SOURCE_DATE_EPOCH, then now", () => {
    const now = new Date("2030-01-01T00:00:00.5Z");
    const given = new Date("2020-02-02T02:02:02Z");
    assert.equal(commitTimestamp({ commit: { timestamp: given }, env: { SOURCE_DATE_EPOCH: "0" } }, () => now), given);
    assert.equal(formatTimestamp(commitTimestamp({ env: { SOURCE_DATE_EPOCH: "0" } }, () => now)), "1970-01-01T00:00:00Z");
    assert.equal(formatTimestamp(commitTimestamp({ env: {} }, () => now)), "2030-01-01T00:00:00.500Z");
    assert.throws(() => commitTimestamp({ env: { SOURCE_DATE_EPOCH: "yesterday" } }), /SOURCE_DATE_EPOCH="yesterday" is not a number of seconds/);
  });

  it("puts buildah's empty-layer history around the new entry and keeps it consistent with the layers", () => {
    const warnings: string[] = [];
    const out = buildCommitConfig({
      base: { architecture: "arm64", os: "linux", config: { Env: ["A=1"] }, history: [{ created_by: "base" }], container_config: { Hostname: "x" } },
      buildah: {
        image: "localhost/b:1",
        "created-by": "my step",
        PrependedEmptyLayers: [{ created_by: "ENV H=1", empty_layer: true }],
        AppendedEmptyLayers: [{ created_by: "LABEL x=y", empty_layer: true }],
      },
      diffIds: [`sha256:${"1".repeat(64)}`, `sha256:${"2".repeat(64)}`],
      commit: undefined,
      created: new Date("2024-01-01T00:00:00Z"),
      warn: (m) => warnings.push(m),
    });
    assert.deepEqual(out.history, [
      { created_by: "base" },
      { created_by: "ENV H=1", empty_layer: true },
      { created: "2024-01-01T00:00:00Z", created_by: "my step", comment: "FROM localhost/b:1" },
      { created_by: "LABEL x=y", empty_layer: true },
    ]);
    assert.equal(out.architecture, "arm64");
    assert.equal("container_config" in out, false);
    assert.equal(warnings.length, 0);
    const broken: string[] = [];
    buildCommitConfig({ base: { history: [{ created_by: "a" }, { created_by: "b" }] }, diffIds: ["x"], commit: undefined, created: new Date(0), warn: (m) => broken.push(m) });
    assert.match(broken[0]!, /history has 3 entries for layers but the image has 1 layers/);
  });
});
