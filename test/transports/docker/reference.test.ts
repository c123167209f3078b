// docker:// references: Docker Hub defaults, host:port, tag/digest, the distribution grammar, round trips.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseDockerReference, parseRepositoryLocation, registryEndpointHost } from "../../../transports/docker/reference.js";
import { isImgcopyError } from "../../../src/errors.js";

const DIGEST = `sha256:${"a".repeat(64)}`;

function badRef(text: string, pattern: RegExp): void {
  assert.throws(() => parseDockerReference(text), (err: unknown) => {
    assert.ok(isImgcopyError(err) && err.code === "EBADREF", `a BadReferenceError for ${text}`);
    assert.match((err as Error).message, pattern);
    assert.ok(!(err as Error).message.includes("\n"), "one line");
    return true;
  });
}

describe("docker:// references", () => {
  it("applies Docker Hub's defaults: docker.io, library/, latest", () => {
    const r = parseDockerReference("//busybox");
    assert.deepEqual([r.registry, r.repository, r.tag, r.digest], ["docker.io", "library/busybox", "latest", undefined]);
    assert.equal(r.toString(), "docker://docker.io/library/busybox:latest");
    assert.equal(registryEndpointHost(r.registry), "registry-1.docker.io");
    const ns = parseDockerReference("//team/web:1");
    assert.deepEqual([ns.registry, ns.repository, ns.tag], ["docker.io", "team/web", "1"]);
    assert.equal(parseDockerReference("//index.docker.io/busybox").toString(), "docker://docker.io/library/busybox:latest");
  });

  it("takes HOST[:PORT], localhost and deep repository paths", () => {
    const r = parseDockerReference("//127.0.0.1:5000/team/web/app:v1.2-rc_3");
    assert.deepEqual([r.registry, r.repository, r.tag], ["127.0.0.1:5000", "team/web/app", "v1.2-rc_3"]);
    assert.equal(r.manifestReference, "v1.2-rc_3");
    const l = parseDockerReference("//localhost/app");
    assert.deepEqual([l.registry, l.repository, l.tag], ["localhost", "app", "latest"]);
    const q = parseDockerReference("//quay.io/a.b/c__d/e-f");
    assert.deepEqual([q.registry, q.repository], ["quay.io", "a.b/c__d/e-f"]);
    const noSlashes = parseDockerReference("registry.example:5000/x");
    assert.equal(noSlashes.toString(), "docker://registry.example:5000/x:latest");
  });

  it("takes a digest instead of a tag and pushes/pulls by it", () => {
    const r = parseDockerReference(`//127.0.0.1:5000/web@${DIGEST}`);
    assert.deepEqual([r.tag, r.digest, r.manifestReference], [undefined, DIGEST, DIGEST]);
    assert.equal(r.toString(), `docker://127.0.0.1:5000/web@${DIGEST}`);
  });

  it("round-trips toString through the parser", () => {
    for (const text of ["//busybox", "//a/b:c", `//h:1/x/y@${DIGEST}`, "//localhost:5000/p/q:latest", "//docker.io/library/x:1"]) {
      const once = parseDockerReference(text);
      const again = parseDockerReference(once.toString().slice("docker:".length));
      assert.equal(again.toString(), once.toString(), text);
      assert.deepEqual([again.registry, again.repository, again.tag, again.digest], [once.registry, once.repository, once.tag, once.digest]);
    }
  });

  it("refuses a tag and a digest together, bad names, tags, digests and empty references", () => {
    badRef(`//h:5000/web:1@${DIGEST}`, /both a tag and a digest/);
    badRef("//h:5000/Web:1", /not a valid repository name.*lowercase/);
    badRef("//h:5000/web:-x", /not a valid tag/);
    badRef(`//h:5000/web:${"t".repeat(129)}`, /not a valid tag/);
    badRef("//h:5000/web@sha256:xyz", /not a valid digest/);
    badRef(`//h:5000/web@sha512:${"a".repeat(128)}`, /only sha256/);
    badRef("//", /expected docker:\/\//);
    badRef("//h:5000/a//b", /not a valid repository name/);
    badRef("//h:5000/-a", /not a valid repository name/);
    badRef("//bad_host.example/a", /not a valid registry host/);
    badRef(`//h/${"a".repeat(260)}`, /longer than 255/);
  });

  it("takes a repository without tag or digest for list-tags", () => {
    assert.equal(parseRepositoryLocation("//127.0.0.1:5000/team/web").name, "127.0.0.1:5000/team/web");
    assert.equal(parseRepositoryLocation("//busybox").name, "docker.io/library/busybox");
    assert.throws(() => parseRepositoryLocation("//127.0.0.1:5000/team/web:1"), /without a tag or digest/);
    assert.throws(() => parseRepositoryLocation(`//h/web@${DIGEST}`), /without a tag or digest/);
  });
});
