import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isImgcopyError } from "../../../src/errors.js";
import { TransportRegistry } from "../../../src/registry.js";
import transport from "../../../transports/docker-archive/index.js";
import type { DockerArchiveReference } from "../../../transports/docker-archive/reference.js";

const parse = (rest: string): DockerArchiveReference => transport.parseReference(rest);

function assertBadRef(rest: string, pattern: RegExp): void {
  assert.throws(
    () => parse(rest),
    (err: unknown) => isImgcopyError(err) && err.code === "EBADREF" && pattern.test(err.message) && !err.message.includes("\n"),
    rest,
  );
}

describe("docker-archive references", () => {
  it("is the default export, named docker-archive, and registers", async () => {
    assert.equal(transport.name, "docker-archive");
    const registry = new TransportRegistry();
    registry.register(transport);
    const ref = await registry.parseReference("docker-archive:/tmp/a.tar:x:1");
    assert.equal(ref.toString(), "docker-archive:/tmp/a.tar:docker.io/library/x:1");
  });

  it("splits PATH at the first colon and normalises the name as docker does", () => {
    const cases: Array<[string, string, string | undefined]> = [
      ["a.tar", "a.tar", undefined],
      ["a.tar:x:1", "a.tar", "docker.io/library/x:1"],
      ["a.tar:x", "a.tar", "docker.io/library/x:latest"],
      ["a.tar:foo/bar:2", "a.tar", "docker.io/foo/bar:2"],
      ["a.tar:index.docker.io/foo:2", "a.tar", "docker.io/library/foo:2"],
      ["a.tar:localhost/x:1", "a.tar", "localhost/x:1"],
      ["a.tar:localhost:5000/foo/bar:1", "a.tar", "localhost:5000/foo/bar:1"],
      ["a.tar:quay.io/a/b-c_d.e:v1.2-x", "a.tar", "quay.io/a/b-c_d.e:v1.2-x"],
      ["./dir/a.tar:x:1", "./dir/a.tar", "docker.io/library/x:1"],
      // An uppercase first component is a registry host (distribution/reference's current rule).
      ["a.tar:Host/bar", "a.tar", "Host/bar:latest"],
    ];
    for (const [rest, path, named] of cases) {
      const ref = parse(rest);
      assert.equal(ref.path, path, rest);
      assert.equal(ref.named ? `${ref.named.name}:${ref.named.tag}` : undefined, named, rest);
      assert.equal(ref.sourceIndex, undefined);
    }
  });

  it("parses @N as a source index", () => {
    const ref = parse("/tmp/a.tar:@3");
    assert.equal(ref.sourceIndex, 3);
    assert.equal(ref.named, undefined);
    assert.equal(ref.toString(), "docker-archive:/tmp/a.tar:@3");
  });

  it("prints back text that parses to the same reference", () => {
    for (const rest of ["a.tar", "/x/y.tar:x:1", "y.tar:Localhost:5000/a:b", "z.tar:@0", "/dev/stdout:foo/bar"]) {
      const ref = parse(rest);
      const again = parse(ref.toString().slice("docker-archive:".length));
      assert.deepEqual([again.path, again.named, again.sourceIndex], [ref.path, ref.named, ref.sourceIndex], rest);
      assert.equal(again.toString(), ref.toString());
    }
  });

  it("rejects digests, uppercase repositories, bad indexes and an empty path", () => {
    assertBadRef("a.tar:x@sha256:" + "a".repeat(64), /digest is not allowed/);
    assertBadRef("a.tar:x:1@sha256:" + "a".repeat(64), /digest is not allowed/);
    assertBadRef("a.tar:foo/Bar", /must be lowercase/);
    assertBadRef("a.tar:X:1", /must be lowercase/);
    assertBadRef("a.tar:x:bad tag", /invalid tag/);
    assertBadRef("a.tar:" + "a".repeat(64), /image ID/);
    assertBadRef("a.tar:", /empty name/);
    assertBadRef("a.tar:@", /not an image index/);
    assertBadRef("a.tar:@-1", /not an image index/);
    assertBadRef("a.tar:@x", /not an image index/);
    assertBadRef("", /expected docker-archive:PATH/);
    assertBadRef(":x:1", /expected docker-archive:PATH/);
  });

  it("refuses @N for a destination", async () => {
    await assert.rejects(parse("/tmp/none.tar:@0").newImageDestination({}), /cannot use @0/);
  });
});
