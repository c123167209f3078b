import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { isImgcopyError } from "../../../src/errors.js";
import dirTransport, { DirReference } from "../../../transports/dir/index.js";

const parse = (rest: string) => dirTransport.parseReference(rest) as DirReference;

test("the module's default export is the transport named dir", () => {
  assert.equal(dirTransport.name, "dir");
  assert.equal(parse("/x").transport, dirTransport);
});

test("toString gives back dir:PATH as typed; the path is resolved to absolute for use", () => {
  for (const text of ["./out", "out", "/abs/dir", "/with:colon:inside", "../up/x"]) {
    const r = parse(text);
    assert.equal(r.toString(), `dir:${text}`);
    assert.equal(r.resolvedPath, resolve(text));
    assert.equal(parse(r.toString().slice("dir:".length)).resolvedPath, r.resolvedPath);
  }
});

test("an empty PATH is refused with one line", () => {
  assert.throws(() => parse(""), (err: unknown) => {
    assert.ok(isImgcopyError(err));
    assert.equal(err.code, "EBADREF");
    assert.match(err.message, /PATH is empty/);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
});
