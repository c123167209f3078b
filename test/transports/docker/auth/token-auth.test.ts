// docker-registry with token auth: a realm served by this test mints ES256 JWTs (x5c) the registry
// trusts. Pushes and pulls through imgcopy checked by skopeo; tokens per scope set, refresh tokens
// (identitytoken), anonymous access, a given --registry-token, insufficient_scope, refused logins.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { copyImage } from "../../../../src/copy/index.js";
import { parseOciReference } from "../../../../transports/oci/reference.js";
import { readCapped, RegistryClient } from "../../../../transports/docker/registry-client.js";
import { MemoryImage, MemoryReference } from "../../../copy/memory-transport.js";
import { addImage, tarOf, type BuiltImage } from "../../../copy/test-images.js";
import { cleanEnv, imgcopy, stderrLines, type CliResult } from "../../../cli/run-imgcopy.js";
import { startRegistry, type RegistryServer } from "../../../helpers/registry-server.js";
import { startTokenRealm, type TokenRealm } from "../../../helpers/token-realm.js";
import { run, tempDir } from "../../../helpers/tools.js";

const USER = "alice";
const PASS = "s3cret";
const SERVICE = "test-registry";
const b64 = (s: string): string => Buffer.from(s).toString("base64");

let realm: TokenRealm;
let registry: RegistryServer;
let work: { path: string; cleanup: () => Promise<void> };
let layout: string;
let built: BuiltImage;
let n = 0;

before(async () => {
  work = await tempDir("imgcopy-token-auth-");
  realm = await startTokenRealm({
    service: SERVICE,
    issuer: "test-issuer",
    users: { [USER]: PASS, reader: "r" },
    refreshTokens: { "refresh-alice": USER },
    // alice may do anything; "reader" and anonymous may pull public/* only.
    grant: (user, repo, actions) => (user === USER ? actions : repo.startsWith("public/") ? actions.filter((a) => a === "pull") : []),
  });
  registry = await startRegistry({ token: { realm: realm.realm, service: SERVICE, issuer: "test-issuer", rootCertBundle: realm.rootCertBundle } });
  const image = new MemoryImage();
  built = addImage(image, { layers: [{ tar: await tarOf({ "etc/hello": "hello with tokens\n" }), compression: "gzip" }] });
  layout = join(work.path, "layout");
  await copyImage(new MemoryReference("fixture", image), parseOciReference(`${layout}:x`), {});
});
after(async () => {
  await registry?.stop();
  await realm?.stop();
  await work?.cleanup();
});

async function caseEnv(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = join(work.path, `case${++n}`);
  await mkdir(join(dir, "home"), { recursive: true });
  await writeFile(join(dir, "registries.conf"), "");
  const { DOCKER_CONFIG: _d, REGISTRY_AUTH_FILE: _r, ...base } = cleanEnv(join(dir, "home"));
  return { dir, env: { ...base, XDG_RUNTIME_DIR: join(dir, "run"), REGISTRIES_CONFIG_PATH: join(dir, "registries.conf") } };
}

function expectOneLineFailure(r: CliResult, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `should fail: ${r.stderr}`);
  const lines = stderrLines(r);
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
}

const skopeoDigest = async (ref: string, creds?: string): Promise<string> =>
  (await run("skopeo", ["inspect", "--tls-verify=false", ...(creds ? ["--creds", creds] : []), "--format", "{{.Digest}}", ref])).stdout.trim();

/** The token requests made since `from`. */
const requestsSince = (from: number) => realm.requests.slice(from);

describe("token auth (realm served by the test)", () => {
  it("push with --dest-creds: one token per scope set, account and basic credentials sent; skopeo reads it", async () => {
    const { env } = await caseEnv();
    const from = realm.requests.length;
    const ref = `docker://${registry.host}/team/web:1`;
    const r = await imgcopy(["copy", "-q", "--dest-tls-verify=false", "--dest-creds", `${USER}:${PASS}`, `oci:${layout}:x`, ref], { env });
    assert.equal(r.code, 0, r.stderr);
    const asked = requestsSince(from);
    assert.equal(await skopeoDigest(ref, `${USER}:${PASS}`), built.digest);
    assert.ok(asked.length >= 1);
    for (const q of asked) {
      assert.equal(q.user, USER);
      assert.equal(q.account, USER);
      assert.equal(q.service, SERVICE);
    }
    assert.ok(asked.some((q) => q.scopes.includes("repository:team/web:pull,push")), JSON.stringify(asked));
    // Cached: never two requests for the same scope set.
    const sets = asked.map((q) => [...q.scopes].sort().join(" "));
    assert.equal(new Set(sets).size, sets.length, `one token per scope set: ${JSON.stringify(sets)}`);
  });

  it("pull with an identitytoken from the auth file: a refresh_token grant POST with client_id imgcopy", async () => {
    const { dir, env } = await caseEnv();
    await run("skopeo", ["copy", "--dest-tls-verify=false", "--dest-creds", `${USER}:${PASS}`, `oci:${layout}:x`, `docker://${registry.host}/team/refresh:1`]);
    await mkdir(join(dir, "run", "containers"), { recursive: true });
    await writeFile(join(dir, "run", "containers", "auth.json"), JSON.stringify({ auths: { [registry.host]: { auth: b64(`${USER}:`), identitytoken: "refresh-alice" } } }));
    const from = realm.requests.length;
    const out = join(dir, "pulled");
    const r = await imgcopy(["copy", "-q", "--src-tls-verify=false", `docker://${registry.host}/team/refresh:1`, `oci:${out}:y`], { env });
    assert.equal(r.code, 0, r.stderr);
    const index = JSON.parse(await readFile(join(out, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
    assert.equal(index.manifests[0]!.digest, built.digest);
    const asked = requestsSince(from);
    assert.ok(asked.length >= 1);
    for (const q of asked) {
      assert.equal(q.method, "POST");
      assert.equal(q.grantType, "refresh_token");
      assert.equal(q.clientId, "imgcopy");
      assert.equal(q.user, USER);
    }
    assert.ok(asked.some((q) => q.scopes.includes("repository:team/refresh:pull")), JSON.stringify(asked));
  });

  it("anonymous: a public repository is readable, a private one is refused in one line", async () => {
    const { env } = await caseEnv();
    await run("skopeo", ["copy", "--dest-tls-verify=false", "--dest-creds", `${USER}:${PASS}`, `oci:${layout}:x`, `docker://${registry.host}/public/base:1`]);
    const from = realm.requests.length;
    const pub = await imgcopy(["inspect", "--tls-verify=false", `docker://${registry.host}/public/base:1`], { env });
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal((JSON.parse(pub.stdout) as { Digest: string }).Digest, built.digest);
    assert.ok(requestsSince(from).every((q) => q.user === undefined && q.account === null));
    expectOneLineFailure(
      await imgcopy(["inspect", "--tls-verify=false", `docker://${registry.host}/team/web:1`], { env }),
      new RegExp(`registry ${registry.host} denied pull on team/web to anonymous requests \\(insufficient_scope\\); log in`),
    );
  });

  it("a wrong password: one line naming the registry and the user, exit 8, for copy and login", async () => {
    const { dir, env } = await caseEnv();
    const copy = await imgcopy(["copy", "-q", "--dest-tls-verify=false", "--dest-creds", `${USER}:nope`, `oci:${layout}:x`, `docker://${registry.host}/team/web:bad`], { env });
    expectOneLineFailure(copy, new RegExp(`login to ${registry.host} refused for user ${USER}: invalid username or password`));
    assert.equal(copy.code, 8);
    const login = await imgcopy(["login", "--tls-verify=false", "-u", USER, "-p", "nope", registry.host], { env });
    expectOneLineFailure(login, new RegExp(`login to ${registry.host} refused for user ${USER}`));
    assert.equal(login.code, 8);
    const ok = await imgcopy(["login", "--tls-verify=false", "-u", USER, "-p", PASS, registry.host], { env });
    assert.equal(ok.code, 0, ok.stderr);
    const stored = JSON.parse(await readFile(join(dir, "run", "containers", "auth.json"), "utf8")) as { auths: Record<string, { auth: string }> };
    assert.equal(stored.auths[registry.host]!.auth, b64(`${USER}:${PASS}`));
  });

  it("a push the token does not allow: one line naming the registry, nothing tagged", async () => {
    const { env } = await caseEnv();
    const ref = `docker://${registry.host}/public/denied:1`;
    const r = await imgcopy(["copy", "-q", "--dest-tls-verify=false", "--dest-creds", "reader:r", `oci:${layout}:x`, ref], { env });
    expectOneLineFailure(r, new RegExp(`registry ${registry.host} denied pull,push on public/denied to user reader \\(insufficient_scope\\)`));
    assert.equal(r.code, 8);
    await assert.rejects(skopeoDigest(ref, `${USER}:${PASS}`), /manifest unknown|not found/i);
  });

  it("--registry-token is sent as it is", async () => {
    const { env } = await caseEnv();
    const url = new URL(realm.realm);
    url.searchParams.set("service", SERVICE);
    url.searchParams.set("scope", "repository:team/web:pull");
    const res = await fetch(url, { headers: { authorization: `Basic ${b64(`${USER}:${PASS}`)}` } });
    const token = ((await res.json()) as { token: string }).token;
    const from = realm.requests.length;
    const r = await imgcopy(["inspect", "--tls-verify=false", "--registry-token", token, `docker://${registry.host}/team/web:1`], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { Digest: string }).Digest, built.digest);
    assert.equal(requestsSince(from).length, 0, "no token requested");
  });

  it("insufficient_scope: a request sent with a token lacking its scope gets one new token with the named scope", async () => {
    const { dir } = await caseEnv();
    const client = await RegistryClient.connect(
      { registry: registry.host, endpoint: registry.host, repository: "team/web", insecure: true, isMirror: false, what: "test" },
      { env: { HOME: join(dir, "home") }, dockerAuth: { username: USER, password: PASS } },
    );
    try {
      const from = realm.requests.length;
      // No scopes named: the first token carries no access, the registry answers insufficient_scope.
      const res = await client.send({ method: "GET", url: "/v2/team/web/tags/list", scopes: [], expect: [200], what: "tags" });
      const body = JSON.parse(await readCapped(res.body, 1 << 20)) as { tags: string[] };
      assert.ok(body.tags.includes("1"));
      assert.deepEqual(
        requestsSince(from).map((q) => q.scopes),
        [[], ["repository:team/web:pull"]],
      );
    } finally {
      await client.close();
    }
  });
});
