import { describe, it } from "node:test";
import assert from "node:assert/strict";
import transports, { containerCopyTransport, containersStorageTransport } from "../../../transports/container-storage-copy/index.js";
import { StorageReference, formatStoreSpec, parseStoreSpec } from "../../../transports/container-storage-copy/reference.js";
import { isImgcopyError } from "../../../src/errors.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;

function parse(text: string): StorageReference {
  return containerCopyTransport.parseReference(text) as StorageReference;
}

describe("container-copy references", () => {
  it("exports both transports, container-copy first", () => {
    assert.deepEqual(
      transports.map((t) => t.name),
      ["container-copy", "containers-storage"],
    );
    assert.equal(typeof containerCopyTransport.list, "function");
  });

  it("parses every part of the store bracket", () => {
    const ref = parse("[vfs@/var/g+/run/r:vfs.ignore_chown_errors=true,additionalimagestore=/ro]work");
    assert.deepEqual(ref.store, {
      driver: "vfs",
      graphRoot: "/var/g",
      runRoot: "/run/r",
      options: ["vfs.ignore_chown_errors=true", "additionalimagestore=/ro"],
    });
    assert.equal(ref.nameOrId, "work");
  });

  it("takes a name, id or image name without a bracket", () => {
    assert.deepEqual(parse("my-ctr").store, {});
    assert.equal(parse("my-ctr").nameOrId, "my-ctr");
    assert.equal(parse("localhost/base:1").nameOrId, "localhost/base:1");
    assert.equal(parse(`quay.io/a/b@${DIGEST}`).nameOrId, `quay.io/a/b@${DIGEST}`);
  });

  for (const text of [
    "work",
    "[vfs@/g+/r]work",
    "[/g]work",
    "[overlay@/g]localhost/base:1",
    "[/g+/r]abc123",
    "[vfs@]work",
    "[+/r]work",
    "[vfs@/g+/r:a=1,b=2]work",
    `[overlay@/a/b+/c/d]docker.io/library/x@${DIGEST}`,
  ]) {
    it(`prints ${text} back to text that parses to an equal reference`, () => {
      const ref = parse(text);
      assert.equal(ref.toString(), `container-copy:${text}`);
      const again = parse(ref.toString().slice("container-copy:".length));
      assert.deepEqual(again.store, ref.store);
      assert.equal(again.nameOrId, ref.nameOrId);
    });
  }

  it("spells the containers-storage transport with its own name", () => {
    const ref = containersStorageTransport.parseReference("[vfs@/g+/r]localhost/base:1");
    assert.equal(ref.toString(), "containers-storage:[vfs@/g+/r]localhost/base:1");
    assert.equal(ref.transport, containersStorageTransport);
  });

  for (const [text, pattern] of [
    ["[vfs@/g+/rwork", /"\[" has no closing "\]"/],
    ["[]work", /store specifier \[\] is empty/],
    ["[vfs@relative/g]work", /graph root "relative\/g" is not an absolute path/],
    ["[vfs@/g+run]work", /run root "run" is not an absolute path/],
    ["[@/g]work", /storage driver "" is not a driver name/],
    ["[vfs@/g+/r]", /no container or image named/],
    ["", /no container or image named/],
    ["two words", /"two words" is not a name or id/],
  ] as const) {
    it(`rejects ${JSON.stringify(text)} with a one-line BadReferenceError`, () => {
      assert.throws(
        () => parse(text),
        (err: unknown) => {
          assert.ok(isImgcopyError(err));
          assert.equal(err.code, "EBADREF");
          assert.match(err.message, pattern);
          assert.ok(err.message.includes("container-copy"), err.message);
          assert.ok(!err.message.includes("\n"));
          return true;
        },
      );
    });
  }

  it("splits a bracket off list locations", () => {
    assert.deepEqual(parseStoreSpec("", "container-copy"), { spec: {}, rest: "" });
    assert.deepEqual(parseStoreSpec("[vfs@/g]", "container-copy"), { spec: { driver: "vfs", graphRoot: "/g" }, rest: "" });
    assert.equal(formatStoreSpec({}), "");
    assert.equal(formatStoreSpec({ graphRoot: "/g", runRoot: "/r" }), "[/g+/r]");
  });

  it("is read-only: newImageDestination rejects with UnsupportedError", async () => {
    for (const t of transports) {
      await assert.rejects(t.parseReference("[vfs@/g]x").newImageDestination({}), (err: unknown) => {
        assert.ok(isImgcopyError(err));
        assert.equal(err.code, "EUNSUPPORTED");
        assert.equal(err.message, `${t.name}: is read-only; writing into a store is not supported`);
        return true;
      });
    }
  });
});
