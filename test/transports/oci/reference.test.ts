import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { isImgcopyError } from "../../../src/errors.js";
import ociTransport, { OciReference } from "../../../transports/oci/index.js";

const parse = (rest: string) => ociTransport.parseReference(rest) as OciReference;

function rejectsWith(code: string, fn: () => unknown, pattern?: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isImgcopyError(err), `expected an ImgcopyError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.doesNotMatch(err.message, /\n/);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

test("the module's default export is the transport named oci", () => {
  assert.equal(ociTransport.name, "oci");
  assert.equal(parse("/x").transport, ociTransport);
});

test("PATH ends at the first colon; the rest is REF", () => {
  const plain = parse("/tmp/layout");
  assert.equal(plain.resolvedPath, "/tmp/layout");
  assert.equal(plain.refName, undefined);
  assert.equal(plain.sourceIndex, undefined);
  const tagged = parse("/tmp/layout:latest");
  assert.equal(tagged.path, "/tmp/layout");
  assert.equal(tagged.refName, "latest");
  const nested = parse("/tmp/layout:example.com/app:1.0");
  assert.equal(nested.path, "/tmp/layout");
  assert.equal(nested.refName, "example.com/app:1.0");
});

test("@N selects an entry by position", () => {
  const r = parse("/tmp/layout:@2");
  assert.equal(r.sourceIndex, 2);
  assert.equal(r.refName, undefined);
  rejectsWith("EBADREF", () => parse("/tmp/layout:@-1"), /@N/);
  rejectsWith("EBADREF", () => parse("/tmp/layout:@x"), /@N/);
  rejectsWith("EBADREF", () => parse("/tmp/layout:@01"), /@N/);
});

test("toString gives back the text as typed, and parses to an equal reference", () => {
  for (const text of ["./out", "./out:latest", "rel/dir:a/b:c", "/abs:@0", "/abs:v1.0-rc_2+build"]) {
    const r = parse(text);
    assert.equal(r.toString(), `oci:${text}`);
    const again = parse(r.toString().slice("oci:".length));
    assert.deepEqual([again.resolvedPath, again.refName, again.sourceIndex], [r.resolvedPath, r.refName, r.sourceIndex]);
  }
  assert.equal(parse("./out").resolvedPath, resolve("./out"));
  assert.equal(parse("/x:").toString(), "oci:/x", "an empty REF is no REF, as in skopeo");
});

test("REF follows the org.opencontainers.image.ref.name grammar", () => {
  for (const ok of ["a", "A-b.c_d:e@f+g", "x--y", "repo/name:tag", "1.0"]) assert.equal(parse(`/l:${ok}`).refName, ok);
  for (const bad of ["-lead", "trail-", "sp ace", "a//b", "a/", "tag$", "a..b", "a---b" + "/", "ü"]) {
    rejectsWith("EBADREF", () => parse(`/l:${bad}`), /REF/);
  }
});

test("an empty PATH is refused", () => {
  rejectsWith("EBADREF", () => parse(""), /PATH is empty/);
  rejectsWith("EBADREF", () => parse(":tag"), /PATH is empty/);
});

test("@N cannot be a destination", async () => {
  await assert.rejects(parse("/tmp/nowhere-imgcopy:@0").newImageDestination({}), (err: unknown) => {
    assert.ok(isImgcopyError(err));
    assert.equal(err.code, "EBADREF");
    return true;
  });
});
