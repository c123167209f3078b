// Where docker:// credentials come from: flags, each auth file in containers/image's order, the
// namespace rules inside a file, and real credential helper programs (credHelpers, credsStore).
import assert from "node:assert/strict";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { authFileLocations } from "../../../../transports/docker/auth/auth-file.js";
import { findCredentials } from "../../../../transports/docker/auth/credentials.js";
import type { SystemContext } from "../../../../src/types.js";
import { tempDir } from "../../../helpers/tools.js";

let work: { path: string; cleanup: () => Promise<void> };
let caseDir: string;
let caseNo = 0;

before(async () => {
  work = await tempDir("imgcopy-auth-");
});
after(async () => work?.cleanup());
beforeEach(async () => {
  caseDir = join(work.path, `case${++caseNo}`);
  await mkdir(join(caseDir, "home"), { recursive: true });
  await mkdir(join(caseDir, "bin"), { recursive: true });
  await writeFile(join(caseDir, "registries.conf"), "");
});

const b64 = (s: string): string => Buffer.from(s).toString("base64");

/** An environment with nothing of the machine's: HOME, PATH (+ our bin) and what the case adds. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HOME: join(caseDir, "home"),
    PATH: `${join(caseDir, "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    XDG_RUNTIME_DIR: join(caseDir, "run"),
    REGISTRIES_CONFIG_PATH: join(caseDir, "registries.conf"),
    ...extra,
  };
}

async function writeJson(path: string, value: unknown): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(value));
  return path;
}

const authsFor = (key: string, user: string, pass: string): unknown => ({ auths: { [key]: { auth: b64(`${user}:${pass}`) } } });

/** A real docker-credential-NAME program: answers from a table of server -> [user, secret], logs what it was asked. */
async function installHelper(name: string, table: Record<string, [string, string]>): Promise<string> {
  const log = join(caseDir, `${name}.log`);
  const cases = Object.entries(table)
    .map(([server, [u, s]]) => `  "${server}") printf '{"ServerURL":"%s","Username":"${u}","Secret":"${s}"}' "$server" ;;`)
    .join("\n");
  const script = `#!/bin/sh
[ "$1" = get ] || { echo "unsupported $1" >&2; exit 2; }
read -r server
echo "$server" >> "${log}"
case "$server" in
${cases}
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;
  const path = join(caseDir, "bin", `docker-credential-${name}`);
  await writeFile(path, script);
  await chmod(path, 0o755);
  return log;
}

describe("auth file lookup order", () => {
  it("flags win over every file; a bearer token wins over user/password", async () => {
    await writeJson(join(caseDir, "run", "containers", "auth.json"), authsFor("reg.example:5000", "fileuser", "filepass"));
    const ctx: SystemContext = { env: env(), dockerAuth: { username: "flag", password: "pw" } };
    assert.deepEqual(await findCredentials("reg.example:5000", "team/web", ctx), { username: "flag", password: "pw" });
    assert.deepEqual(await findCredentials("reg.example:5000", "team/web", { ...ctx, dockerBearerToken: "tok" }), { bearerToken: "tok" });
  });

  it("--authfile alone when given: other files are not read", async () => {
    await writeJson(join(caseDir, "run", "containers", "auth.json"), authsFor("reg.example", "runtime", "x"));
    const given = await writeJson(join(caseDir, "given.json"), authsFor("other.example", "given", "y"));
    const ctx: SystemContext = { env: env(), authFilePath: given };
    assert.equal(await findCredentials("reg.example", "a", ctx), undefined);
    assert.deepEqual(await findCredentials("other.example", "a", ctx), { username: "given", password: "y" });
  });

  it("REGISTRY_AUTH_FILE alone when given, and --authfile over it", async () => {
    await writeJson(join(caseDir, "run", "containers", "auth.json"), authsFor("reg.example", "runtime", "x"));
    const fromEnv = await writeJson(join(caseDir, "env.json"), authsFor("reg.example", "envuser", "e"));
    const flag = await writeJson(join(caseDir, "flag.json"), authsFor("reg.example", "flaguser", "f"));
    assert.deepEqual(await findCredentials("reg.example", "a", { env: env({ REGISTRY_AUTH_FILE: fromEnv }) }), { username: "envuser", password: "e" });
    assert.deepEqual(await findCredentials("reg.example", "a", { env: env({ REGISTRY_AUTH_FILE: fromEnv }), authFilePath: flag }), {
      username: "flaguser",
      password: "f",
    });
  });

  it("reads XDG_RUNTIME_DIR, XDG_CONFIG_HOME, DOCKER_CONFIG, ~/.docker/config.json and ~/.dockercfg, first hit wins", async () => {
    const home = join(caseDir, "home");
    const xdgConfig = join(caseDir, "xdgconf");
    const dockerConfig = join(caseDir, "dockerconf");
    await writeJson(join(caseDir, "run", "containers", "auth.json"), authsFor("one.example", "runtime", "1"));
    await writeJson(join(xdgConfig, "containers", "auth.json"), { auths: { "one.example": { auth: b64("xdg:0") }, "two.example": { auth: b64("xdg:2") } } });
    await writeJson(join(dockerConfig, "config.json"), { auths: { "two.example": { auth: b64("dc:0") }, "three.example": { auth: b64("dockerconfig:3") } } });
    await writeJson(join(home, ".docker", "config.json"), authsFor("four.example", "homedocker", "4"));
    await writeJson(join(home, ".dockercfg"), { "five.example": { auth: b64("legacy:5") } });
    const e = env({ XDG_CONFIG_HOME: xdgConfig, DOCKER_CONFIG: dockerConfig });
    const user = async (reg: string, ctxEnv = e): Promise<string | undefined> => (await findCredentials(reg, "r", { env: ctxEnv }))?.username;
    assert.equal(await user("one.example"), "runtime");
    assert.equal(await user("two.example"), "xdg");
    assert.equal(await user("three.example"), "dockerconfig");
    // DOCKER_CONFIG replaces ~/.docker: its config.json is not read while DOCKER_CONFIG is set.
    assert.equal(await user("four.example"), undefined);
    assert.equal(await user("four.example", env({ XDG_CONFIG_HOME: xdgConfig })), "homedocker");
    assert.equal(await user("five.example"), "legacy");
    // XDG_CONFIG_HOME unset: ~/.config/containers/auth.json.
    await writeJson(join(home, ".config", "containers", "auth.json"), authsFor("six.example", "dotconfig", "6"));
    assert.equal(await user("six.example", env()), "dotconfig");
  });

  it("without XDG_RUNTIME_DIR the runtime file is /run/containers/UID/auth.json", () => {
    const locations = authFileLocations({ env: { HOME: "/h" } }).map((l) => l.path);
    assert.deepEqual(locations, [
      `/run/containers/${process.getuid!()}/auth.json`,
      "/h/.config/containers/auth.json",
      "/h/.docker/config.json",
      "/h/.dockercfg",
    ]);
  });

  it("a file that is not JSON is an error naming it", async () => {
    const bad = join(caseDir, "bad.json");
    await writeFile(bad, "{ nope");
    await assert.rejects(findCredentials("reg.example", "a", { env: env(), authFilePath: bad }), (err: Error) => {
      assert.equal(err.name, "AuthError");
      assert.match(err.message, new RegExp(`auth file ${bad}: not valid JSON`));
      return true;
    });
  });
});

describe("inside one auth file", () => {
  it("the longest namespace match wins: host/ns/repo, host/ns, host", async () => {
    const file = await writeJson(join(caseDir, "a.json"), {
      auths: {
        "quay.example": { auth: b64("host:h") },
        "quay.example/team": { auth: b64("ns:n") },
        "quay.example/team/web": { auth: b64("repo:r") },
      },
    });
    const user = async (repo: string): Promise<string | undefined> => (await findCredentials("quay.example", repo, { env: env(), authFilePath: file }))?.username;
    assert.equal(await user("team/web"), "repo");
    assert.equal(await user("team/db"), "ns");
    assert.equal(await user("team/web/sub"), "repo");
    assert.equal(await user("other/web"), "host");
    assert.equal(await user("teamx/web"), "host");
  });

  it("URL-style keys: https://index.docker.io/v1/ for docker.io, scheme and path dropped for others", async () => {
    const file = await writeJson(join(caseDir, "a.json"), {
      auths: { "https://index.docker.io/v1/": { auth: b64("hub:h") }, "http://reg.example:5000/v2/": { auth: b64("old:o") } },
    });
    assert.deepEqual(await findCredentials("docker.io", "library/busybox", { env: env(), authFilePath: file }), { username: "hub", password: "h" });
    assert.deepEqual(await findCredentials("reg.example:5000", "a/b", { env: env(), authFilePath: file }), { username: "old", password: "o" });
    assert.equal(await findCredentials("reg.example", "a/b", { env: env(), authFilePath: file }), undefined);
  });

  it("identitytoken gives an OAuth2 refresh token (with the user from auth)", async () => {
    const file = await writeJson(join(caseDir, "a.json"), { auths: { "reg.example": { auth: b64("someone:"), identitytoken: "refresh-me" } } });
    assert.deepEqual(await findCredentials("reg.example", "a", { env: env(), authFilePath: file }), { username: "someone", identityToken: "refresh-me" });
  });

  it("credHelpers[registry] is asked first, over auths, with the registry on stdin", async () => {
    const log = await installHelper("test", { "reg.example:5000": ["helperuser", "helpersecret"] });
    const file = await writeJson(join(caseDir, "a.json"), {
      credHelpers: { "reg.example:5000": "test" },
      auths: { "reg.example:5000": { auth: b64("fileuser:x") } },
    });
    assert.deepEqual(await findCredentials("reg.example:5000", "team/web", { env: env(), authFilePath: file }), {
      username: "helperuser",
      password: "helpersecret",
    });
    const { readFile } = await import("node:fs/promises");
    assert.equal(await readFile(log, "utf8"), "reg.example:5000\n");
  });

  it("a helper's Username <token> means its Secret is an identity token", async () => {
    await installHelper("test", { "reg.example": ["<token>", "refresh-xyz"] });
    const file = await writeJson(join(caseDir, "a.json"), { credHelpers: { "reg.example": "test" } });
    assert.deepEqual(await findCredentials("reg.example", "a", { env: env(), authFilePath: file }), { identityToken: "refresh-xyz" });
  });

  it("a helper that has nothing falls through to auths; credsStore is asked last", async () => {
    const log = await installHelper("store", { "https://index.docker.io/v1/": ["hubuser", "hubpass"], "reg.example": ["storeuser", "s"] });
    const file = await writeJson(join(caseDir, "a.json"), {
      credsStore: "store",
      credHelpers: { "other.example": "store" },
      auths: { "other.example": { auth: b64("fileuser:f") }, "reg.example/team": {} },
    });
    const ctx: SystemContext = { env: env(), authFilePath: file };
    assert.deepEqual(await findCredentials("other.example", "a", ctx), { username: "fileuser", password: "f" });
    assert.deepEqual(await findCredentials("reg.example", "team/a", ctx), { username: "storeuser", password: "s" });
    assert.deepEqual(await findCredentials("docker.io", "library/alpine", ctx), { username: "hubuser", password: "hubpass" });
    assert.equal(await findCredentials("nothing.example", "a", ctx), undefined);
    const { readFile } = await import("node:fs/promises");
    assert.deepEqual((await readFile(log, "utf8")).trim().split("\n"), [
      "other.example",
      "reg.example",
      "https://index.docker.io/v1/",
      "nothing.example",
    ]);
  });

  it("a helper missing from PATH, or failing, is one error naming it", async () => {
    const file = await writeJson(join(caseDir, "a.json"), { credHelpers: { "reg.example": "absent" } });
    await assert.rejects(findCredentials("reg.example", "a", { env: env(), authFilePath: file }), /credential helper docker-credential-absent is not on PATH/);
    const broken = join(caseDir, "bin", "docker-credential-broken");
    await writeFile(broken, "#!/bin/sh\necho 'keyring locked' >&2\nexit 3\n");
    await chmod(broken, 0o755);
    const file2 = await writeJson(join(caseDir, "b.json"), { credsStore: "broken" });
    await assert.rejects(
      findCredentials("reg.example", "a", { env: env(), authFilePath: file2 }),
      /credential helper docker-credential-broken failed for reg.example: keyring locked/,
    );
  });
});

describe("registries.conf credential-helpers", () => {
  it("are asked in order; containers-auth.json stands for the auth files; default is the auth files alone", async () => {
    const log = await installHelper("conf", { "reg.example": ["confuser", "c"] });
    await writeJson(join(caseDir, "run", "containers", "auth.json"), {
      auths: { "reg.example": { auth: b64("fileuser:f") }, "other.example": { auth: b64("fileuser:o") } },
    });
    assert.equal((await findCredentials("reg.example", "a", { env: env() }))?.username, "fileuser");
    await writeFile(join(caseDir, "registries.conf"), `credential-helpers = ["conf", "containers-auth.json"]\n`);
    assert.deepEqual(await findCredentials("reg.example", "a", { env: env() }), { username: "confuser", password: "c" });
    assert.deepEqual(await findCredentials("other.example", "a", { env: env() }), { username: "fileuser", password: "o" });
    await writeFile(join(caseDir, "registries.conf"), `credential-helpers = ["conf"]\n`);
    assert.equal(await findCredentials("other.example", "a", { env: env() }), undefined);
    const { readFile } = await import("node:fs/promises");
    assert.deepEqual((await readFile(log, "utf8")).trim().split("\n"), ["reg.example", "other.example", "other.example"]);
    await writeFile(join(caseDir, "registries.conf"), `credential-helpers = "conf"\n`);
    await assert.rejects(findCredentials("reg.example", "a", { env: env() }), /registries.conf:1: credential-helpers must be a list/);
  });
});
