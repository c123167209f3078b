// The auth flow's decisions, given a token server function that records what it was asked: basic,
// bearer with and without credentials, refresh tokens, caching per scope set, insufficient_scope.
// (The real registry and token realm are driven in the end-to-end auth tests.)
import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { RegistryAuthenticator, type TokenRequester } from "../../../../transports/docker/auth/registry-authenticator.js";

interface Asked {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

function tokenServer(answer: (asked: Asked) => { status: number; body: unknown }): { request: TokenRequester; asked: Asked[] } {
  const asked: Asked[] = [];
  const request: TokenRequester = async (url, init) => {
    const a: Asked = { url, method: init.method, headers: init.headers, ...(init.body !== undefined ? { body: init.body } : {}) };
    asked.push(a);
    const { status, body } = answer(a);
    return { status, headers: {}, text: typeof body === "string" ? body : JSON.stringify(body) };
  };
  return { request, asked };
}

const BEARER = 'Bearer realm="http://127.0.0.1:9/token",service="test-registry"';
const PULL = "repository:team/web:pull";
const PUSH = "repository:team/web:pull,push";

describe("RegistryAuthenticator", () => {
  it("a registry that answered 200 needs nothing", async () => {
    const { request, asked } = tokenServer(() => ({ status: 500, body: "" }));
    const auth = new RegistryAuthenticator({ registry: "r", credentials: { username: "u", password: "p" }, request });
    auth.noteChallenge(200, undefined);
    assert.equal(await auth.authorization([PULL]), undefined);
    assert.equal(asked.length, 0);
  });

  it("basic: sends user:pass; anonymous sends nothing; a refused basic login is not retried", async () => {
    const { request } = tokenServer(() => ({ status: 500, body: "" }));
    const auth = new RegistryAuthenticator({ registry: "r", credentials: { username: "user", password: "p:ss" }, request });
    auth.noteChallenge(401, 'Basic realm="basic-realm"');
    assert.equal(await auth.authorization([PULL]), `Basic ${Buffer.from("user:p:ss").toString("base64")}`);
    assert.equal(await auth.handleUnauthorized('Basic realm="basic-realm"', [PULL]), false);
    const anon = new RegistryAuthenticator({ registry: "r", credentials: undefined, request });
    anon.noteChallenge(401, 'Basic realm="basic-realm"');
    assert.equal(await anon.authorization([PULL]), undefined);
  });

  it("bearer: GETs the realm with service, every scope, account and basic credentials; caches per scope set", async () => {
    let n = 0;
    const { request, asked } = tokenServer(() => ({ status: 200, body: { token: `t${++n}`, expires_in: 300 } }));
    const auth = new RegistryAuthenticator({ registry: "r", credentials: { username: "user", password: "pw" }, request });
    auth.noteChallenge(401, BEARER);
    assert.equal(await auth.authorization([PUSH, "repository:team/base:pull"]), "Bearer t1");
    const u = asked[0]!.url;
    assert.equal(u.origin + u.pathname, "http://127.0.0.1:9/token");
    assert.equal(u.searchParams.get("service"), "test-registry");
    assert.deepEqual(u.searchParams.getAll("scope"), ["repository:team/base:pull", PUSH]);
    assert.equal(u.searchParams.get("account"), "user");
    assert.equal(asked[0]!.headers.authorization, `Basic ${Buffer.from("user:pw").toString("base64")}`);
    // Same set in another order: cached. Another set: a new token.
    assert.equal(await auth.authorization(["repository:team/base:pull", PUSH]), "Bearer t1");
    assert.equal(await auth.authorization([PULL]), "Bearer t2");
    assert.equal(asked.length, 2);
  });

  it("bearer without credentials asks anonymously; concurrent requests share one token request", async () => {
    const { request, asked } = tokenServer(() => ({ status: 200, body: { access_token: "anon" } }));
    const auth = new RegistryAuthenticator({ registry: "r", credentials: undefined, request });
    auth.noteChallenge(401, BEARER);
    const all = await Promise.all([1, 2, 3, 4].map(() => auth.authorization([PULL])));
    assert.deepEqual(all, ["Bearer anon", "Bearer anon", "Bearer anon", "Bearer anon"]);
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.headers.authorization, undefined);
    assert.equal(asked[0]!.url.searchParams.get("account"), null);
  });

  it("identity token: POSTs a refresh_token grant with service, scopes and client_id", async () => {
    const { request, asked } = tokenServer(() => ({ status: 200, body: { access_token: "fromrefresh", expires_in: 120 } }));
    const auth = new RegistryAuthenticator({ registry: "r", credentials: { username: "u", identityToken: "refresh-1" }, request });
    auth.noteChallenge(401, BEARER);
    assert.equal(await auth.authorization([PUSH]), "Bearer fromrefresh");
    assert.equal(asked[0]!.method, "POST");
    assert.equal(asked[0]!.headers["content-type"], "application/x-www-form-urlencoded");
    const form = new URLSearchParams(asked[0]!.body);
    assert.equal(form.get("grant_type"), "refresh_token");
    assert.equal(form.get("refresh_token"), "refresh-1");
    assert.equal(form.get("service"), "test-registry");
    assert.equal(form.get("client_id"), "imgcopy");
    assert.deepEqual(form.getAll("scope"), [PUSH]);
  });

  it("insufficient_scope: one new token that adds the named scope, used for later requests too", async () => {
    let n = 0;
    const { request, asked } = tokenServer(() => ({ status: 200, body: { token: `t${++n}` } }));
    const auth = new RegistryAuthenticator({ registry: "r", credentials: undefined, request });
    auth.noteChallenge(401, BEARER);
    assert.equal(await auth.authorization([PULL]), "Bearer t1");
    const retry = await auth.handleUnauthorized(`${BEARER},scope="repository:other/x:pull",error="insufficient_scope"`, [PULL]);
    assert.equal(retry, true);
    assert.equal(await auth.authorization([PULL]), "Bearer t2");
    assert.deepEqual(asked[1]!.url.searchParams.getAll("scope"), ["repository:other/x:pull", PULL]);
    assert.equal(asked.length, 2);
    // The same answer again: the scope is already there, so no third token: the access is denied, said in one line.
    await assert.rejects(
      auth.handleUnauthorized(`${BEARER},scope="repository:other/x:pull",error="insufficient_scope"`, [PULL]),
      (err: Error) => {
        assert.equal(err.name, "AuthError");
        assert.equal(err.message, "registry r denied pull on other/x to anonymous requests (insufficient_scope); log in (imgcopy login r) or pass --creds");
        return true;
      },
    );
    assert.equal(asked.length, 2);
  });

  it("insufficient_scope naming the actions in another order (distribution 2.8 prints them in Go map order) is the same scope: denied in one line, no second token", async () => {
    let n = 0;
    const { request, asked } = tokenServer(() => ({ status: 200, body: { token: `t${++n}` } }));
    const auth = new RegistryAuthenticator({ registry: "r", credentials: { username: "reader", password: "p" }, request });
    auth.noteChallenge(401, BEARER);
    assert.equal(await auth.authorization([PUSH]), "Bearer t1");
    await assert.rejects(auth.handleUnauthorized(`${BEARER},scope="repository:team/web:push,pull",error="insufficient_scope"`, [PUSH]), {
      name: "AuthError",
      message: "registry r denied pull,push on team/web to user reader (insufficient_scope)",
    });
    // Actions the token did not ask for are still asked for once.
    assert.equal(await auth.handleUnauthorized(`${BEARER},scope="repository:team/web:delete,pull",error="insufficient_scope"`, [PUSH]), true);
    assert.deepEqual(asked.at(-1)!.url.searchParams.getAll("scope"), ["repository:team/web:delete,pull", PUSH]);
    assert.equal(asked.length, 2);
  });

  it("a 401 on a cached token drops it and asks again once", async () => {
    let n = 0;
    const { request } = tokenServer(() => ({ status: 200, body: { token: `t${++n}` } }));
    const auth = new RegistryAuthenticator({ registry: "r", credentials: undefined, request });
    auth.noteChallenge(401, BEARER);
    assert.equal(await auth.authorization([PULL]), "Bearer t1");
    assert.equal(await auth.handleUnauthorized(BEARER, [PULL]), true);
    assert.equal(await auth.authorization([PULL]), "Bearer t2");
    // The fresh token was refused too: nothing more to try.
    assert.equal(await auth.handleUnauthorized(BEARER, [PULL]), true);
    assert.equal(await auth.handleUnauthorized(BEARER, [PULL]), false);
  });

  it("a cached token is used until expires_in (at least 60 s) runs out, then a new one is fetched", async () => {
    mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
    try {
      let n = 0;
      const { request, asked } = tokenServer(() => ({ status: 200, body: { token: `t${++n}`, expires_in: n === 1 ? 300 : 5 } }));
      const auth = new RegistryAuthenticator({ registry: "r", credentials: undefined, request });
      auth.noteChallenge(401, BEARER);
      assert.equal(await auth.authorization([PULL]), "Bearer t1");
      mock.timers.tick(290_000);
      assert.equal(await auth.authorization([PULL]), "Bearer t1");
      mock.timers.tick(10_000); // 300 s: expired
      assert.equal(await auth.authorization([PULL]), "Bearer t2");
      // expires_in 5 counts as 60.
      mock.timers.tick(50_000);
      assert.equal(await auth.authorization([PULL]), "Bearer t2");
      mock.timers.tick(10_000);
      assert.equal(await auth.authorization([PULL]), "Bearer t3");
      assert.equal(asked.length, 3);
    } finally {
      mock.timers.reset();
    }
  });

  it("a pre-supplied bearer token is used as it is, never refreshed", async () => {
    const { request, asked } = tokenServer(() => ({ status: 200, body: { token: "x" } }));
    const auth = new RegistryAuthenticator({ registry: "r", credentials: { bearerToken: "given" }, request });
    auth.noteChallenge(401, BEARER);
    assert.equal(await auth.authorization([PULL]), "Bearer given");
    assert.equal(await auth.handleUnauthorized(BEARER, [PULL]), false);
    assert.equal(asked.length, 0);
  });

  it("a token server that refuses the login: one line naming the registry and the user", async () => {
    const { request } = tokenServer(() => ({ status: 401, body: { details: "invalid username or password" } }));
    const auth = new RegistryAuthenticator({ registry: "127.0.0.1:5000", credentials: { username: "bob", password: "bad" }, request });
    auth.noteChallenge(401, BEARER);
    await assert.rejects(auth.authorization([PULL]), (err: Error) => {
      assert.equal(err.name, "AuthError");
      assert.equal(err.message, "login to 127.0.0.1:5000 refused for user bob: invalid username or password");
      return true;
    });
  });

  it("a token server answering 503 is a retryable network error; a body without a token is an auth error", async () => {
    const down = new RegistryAuthenticator({ registry: "r", credentials: undefined, request: tokenServer(() => ({ status: 503, body: "" })).request });
    down.noteChallenge(401, BEARER);
    await assert.rejects(down.authorization([PULL]), (err: Error & { retryable?: boolean }) => err.name === "NetworkError" && err.retryable === true);
    const empty = new RegistryAuthenticator({ registry: "r", credentials: undefined, request: tokenServer(() => ({ status: 200, body: {} })).request });
    empty.noteChallenge(401, BEARER);
    await assert.rejects(empty.authorization([PULL]), /answered no token/);
  });

  it("an aborted token request stays an abort (not a retryable network error)", async () => {
    const request: TokenRequester = async () => {
      const err = new Error("This operation was aborted");
      err.name = "AbortError";
      throw err;
    };
    const auth = new RegistryAuthenticator({ registry: "r", credentials: undefined, request });
    auth.noteChallenge(401, BEARER);
    await assert.rejects(auth.authorization([PULL]), (err: Error) => err.name === "AbortError");
    const refused: TokenRequester = async () => {
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    };
    const down = new RegistryAuthenticator({ registry: "r", credentials: undefined, request: refused });
    down.noteChallenge(401, BEARER);
    await assert.rejects(down.authorization([PULL]), /registry r: token server http:\/\/127.0.0.1:9: connect ECONNREFUSED/);
  });
});
