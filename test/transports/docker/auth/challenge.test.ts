// WWW-Authenticate parsing: several challenges, quoted values holding commas and escapes, token68.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseWwwAuthenticate } from "../../../../transports/docker/auth/challenge.js";

describe("WWW-Authenticate", () => {
  it("parses distribution's bearer challenge, with a comma inside the quoted scope", () => {
    const header =
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/web:pull,push",error="insufficient_scope"';
    assert.deepEqual(parseWwwAuthenticate(header), [
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.example/token",
          service: "registry.example",
          scope: "repository:team/web:pull,push",
          error: "insufficient_scope",
        },
      },
    ]);
  });

  it("parses several challenges in one header and across headers", () => {
    const parsed = parseWwwAuthenticate(['Basic realm="basic-realm", Bearer realm="http://127.0.0.1:1/t", service=svc', 'Negotiate']);
    assert.deepEqual(parsed, [
      { scheme: "basic", params: { realm: "basic-realm" } },
      { scheme: "bearer", params: { realm: "http://127.0.0.1:1/t", service: "svc" } },
      { scheme: "negotiate", params: {} },
    ]);
  });

  it("keeps escaped quotes and backslashes, lowercases scheme and names, tolerates spaces", () => {
    assert.deepEqual(parseWwwAuthenticate('BASIC  Realm = "say \\"hi\\", \\\\ ok" ,charset="UTF-8"'), [
      { scheme: "basic", params: { realm: 'say "hi", \\ ok', charset: "UTF-8" } },
    ]);
  });

  it("reads a token68 challenge and then the next challenge", () => {
    assert.deepEqual(parseWwwAuthenticate("Custom abc123==, Basic realm=x"), [
      { scheme: "custom", params: { "": "abc123==" } },
      { scheme: "basic", params: { realm: "x" } },
    ]);
  });

  it("gives nothing for no header or an empty one", () => {
    assert.deepEqual(parseWwwAuthenticate(undefined), []);
    assert.deepEqual(parseWwwAuthenticate(""), []);
    assert.deepEqual(parseWwwAuthenticate(" , "), []);
  });
});
