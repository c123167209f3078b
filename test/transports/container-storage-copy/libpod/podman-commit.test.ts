// podman commit's rules for a container record, one by one (the e2e test checks them against the
// real podman commit): env replaced and appended, ports from mappings and exposed ports, volumes,
// empty command and entrypoint, StopSignal kept, and --change applied after the record.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildCommitConfig } from "../../../../transports/container-storage-copy/config.js";
import type { RuntimeConfig } from "../../../../transports/container-storage-copy/config-changes.js";
import type { LibpodContainerConfig } from "../../../../transports/container-storage-copy/libpod/container-record.js";
import { applyPodmanContainer } from "../../../../transports/container-storage-copy/libpod/podman-commit.js";

const IMAGE: RuntimeConfig = {
  Env: ["PATH=/bin", "A=img", "B=img"],
  Cmd: ["x"],
  Entrypoint: ["/ep"],
  WorkingDir: "/w",
  User: "app",
  Labels: { base: "1" },
  ExposedPorts: { "7000": {} },
  Volumes: { "/data": {} },
  StopSignal: "SIGQUIT",
};

function apply(container: Partial<LibpodContainerConfig>, opts: { includeVolumes?: boolean; anonymous?: string[]; volumes?: string[] } = {}, image: RuntimeConfig = {}) {
  const config = structuredClone({ ...IMAGE, ...image });
  const warnings: string[] = [];
  applyPodmanContainer(config, {
    container: { id: "c1", ...container },
    anonymousVolumes: new Set(opts.anonymous ?? []),
    volumes: new Set([...(opts.volumes ?? []), ...(opts.anonymous ?? [])]),
    includeVolumes: opts.includeVolumes ?? false,
    warn: (m) => warnings.push(m),
  });
  return { config, warnings };
}

describe("podman commit's rules", () => {
  it("Env: each spec entry removes the same key and is appended, in the spec's order", () => {
    const { config } = apply({ spec: { process: { env: ["B=ctr", "PATH=/bin", "NEW=1", "BROKEN"] } } });
    assert.deepEqual(config.Env, ["A=img", "B=ctr", "PATH=/bin", "NEW=1"]);
  });

  it("User only when set; WorkingDir from the spec's cwd; Cmd and Entrypoint as stored, removed when empty", () => {
    const set = apply({ user: "1000:1000", spec: { process: { cwd: "/etc" } }, command: ["echo hi"], entrypoint: ["/bin/sh", "-c"] }).config;
    assert.equal(set.User, "1000:1000");
    assert.equal(set.WorkingDir, "/etc");
    assert.deepEqual(set.Cmd, ["echo hi"]);
    assert.deepEqual(set.Entrypoint, ["/bin/sh", "-c"]);
    const unset = apply({ user: "", command: [], entrypoint: null }).config;
    assert.equal(unset.User, "app");
    assert.ok(!("Cmd" in unset) && !("Entrypoint" in unset) && !("WorkingDir" in unset), JSON.stringify(unset));
  });

  it("ExposedPorts: mappings' container ports (ranges ignored), legacy mappings and exposed ports, added to the image's", () => {
    const { config } = apply({
      newPortMappings: [
        { container_port: 9000, host_port: 9000, range: 2, protocol: "udp" },
        { container_port: 53, protocol: "tcp,udp" },
        { container_port: 80 },
      ],
      portMappings: [{ containerPort: 8443, protocol: "sctp" }],
      exposedPorts: { "7000": ["tcp"], "8080": ["tcp", "udp"] },
    });
    assert.deepEqual(Object.keys(config.ExposedPorts!).sort(), ["53/tcp", "53/udp", "7000", "7000/tcp", "80/tcp", "8080/tcp", "8080/udp", "8443/sctp", "9000/udp"]);
  });

  it("Labels: the container's added over the image's; StopSignal stays the image's; a Docker image's healthcheck is dropped (OCI has none)", () => {
    const { config } = apply({ labels: { base: "2", app: "x" }, stopSignal: 10 }, {}, { Healthcheck: { Test: ["CMD", "true"] } });
    assert.ok(!("Healthcheck" in config));
    assert.deepEqual(config.Labels, { app: "x", base: "2" });
    assert.equal(config.StopSignal, "SIGQUIT");
  });

  it("Volumes: anonymous named volumes the user gave by default; every user volume with --include-volumes", () => {
    const container: Partial<LibpodContainerConfig> = {
      userVolumes: ["/hostbind", "/named", "/anon", ""],
      namedVolumes: [
        { volumeName: "named", dest: "/named" },
        { volumeName: "a1", dest: "/anon" },
        { volumeName: "a2", dest: "/not-users" },
      ],
    };
    const byDefault = apply(container, { anonymous: ["a1", "a2"], volumes: ["named"] });
    assert.deepEqual(Object.keys(byDefault.config.Volumes!), ["/anon", "/data"]);
    assert.deepEqual(byDefault.warnings, []);
    const all = apply(container, { includeVolumes: true, anonymous: ["a1"], volumes: ["named"] });
    assert.deepEqual(Object.keys(all.config.Volumes!), ["/anon", "/data", "/hostbind", "/named"]);
    const removed = apply(container, { anonymous: [], volumes: ["named"] });
    assert.deepEqual(Object.keys(removed.config.Volumes!), ["/data"]);
    assert.equal(removed.warnings.length, 1);
    assert.match(removed.warnings[0]!, /volume a1 \(\/anon\) has been removed/);
  });

  it("--change and --author apply after the container's record; the history entry says FROM the image", () => {
    const out = buildCommitConfig({
      base: { architecture: "amd64", os: "linux", config: structuredClone(IMAGE) },
      buildah: { image: "localhost/base:1" },
      podman: { container: { id: "c1", user: "1000", spec: { process: { env: ["FOO=1"], cwd: "/etc" } } }, volumes: new Set(), anonymousVolumes: new Set() },
      diffIds: ["sha256:" + "1".repeat(64)],
      commit: { changes: ["USER 5", "ENV FOO=2", "WORKDIR /tmp"], author: "Me" },
      created: new Date(0),
      warn: (m) => assert.fail(m),
    });
    assert.equal(out.config?.User, "5");
    assert.equal(out.config?.WorkingDir, "/tmp");
    assert.ok(out.config?.Env?.includes("FOO=2") && !out.config.Env.includes("FOO=1"));
    assert.equal(out.author, "Me");
    assert.deepEqual(out.history, [{ created: "1970-01-01T00:00:00Z", created_by: "/bin/sh", author: "Me", comment: "FROM localhost/base:1" }]);
  });
});
