// docker-registry over TLS (a CA this test makes) with htpasswd basic auth, driven by the imgcopy
// command and checked by skopeo: refused pushes and logins, login/logout and the auth file they
// write, cert dirs and --tls-verify, and credentials from every auth source.
import assert from "node:assert/strict";
import { chmod, copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { copyImage } from "../../../../src/copy/index.js";
import { parseOciReference } from "../../../../transports/oci/reference.js";
import { MemoryImage, MemoryReference } from "../../../copy/memory-transport.js";
import { addImage, tarOf, type BuiltImage } from "../../../copy/test-images.js";
import { spawn } from "node:child_process";
import { MAIN, TSX, cleanEnv, imgcopy, stderrLines, type CliResult } from "../../../cli/run-imgcopy.js";
import { startRegistry, type RegistryServer } from "../../../helpers/registry-server.js";
import { makeTestCa, type TestCa } from "../../../helpers/test-ca.js";
import { requireTool, run, tempDir } from "../../../helpers/tools.js";

const USER = "alice";
const PASS = "s3cret:with-colon";
const b64 = (s: string): string => Buffer.from(s).toString("base64");

let ca: TestCa;
let registry: RegistryServer;
let work: { path: string; cleanup: () => Promise<void> };
let layout: string;
let built: BuiltImage;
let certDir: string;
let n = 0;

before(async () => {
  work = await tempDir("imgcopy-tls-auth-");
  ca = await makeTestCa();
  const htpasswd = join(work.path, "htpasswd");
  await writeFile(htpasswd, (await run("htpasswd", ["-Bbn", USER, PASS])).stdout);
  registry = await startRegistry({ tls: { certFile: ca.serverCertFile, keyFile: ca.serverKeyFile }, htpasswdFile: htpasswd });
  certDir = join(work.path, "certs");
  await mkdir(certDir);
  await copyFile(ca.caCertFile, join(certDir, "ca.crt"));
  const image = new MemoryImage();
  built = addImage(image, { layers: [{ tar: await tarOf({ "etc/hello": "hello over TLS\n" }), compression: "gzip" }] });
  layout = join(work.path, "layout");
  await copyImage(new MemoryReference("fixture", image), parseOciReference(`${layout}:x`), {});
  // An image every credential source below reads back.
  await run("skopeo", ["copy", "--dest-cert-dir", certDir, "--dest-creds", `${USER}:${PASS}`, `oci:${layout}:x`, `docker://${registry.host}/team/base:1`]);
});
after(async () => {
  await registry?.stop();
  await ca?.cleanup();
  await work?.cleanup();
});

/** A case folder with its own HOME, runtime dir and empty registries.conf; nothing of the machine's user. */
async function caseEnv(extra: NodeJS.ProcessEnv = {}): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = join(work.path, `case${++n}`);
  await mkdir(join(dir, "home"), { recursive: true });
  await writeFile(join(dir, "registries.conf"), "");
  const { DOCKER_CONFIG: _d, REGISTRY_AUTH_FILE: _r, ...base } = cleanEnv(join(dir, "home"));
  return { dir, env: { ...base, XDG_RUNTIME_DIR: join(dir, "run"), REGISTRIES_CONFIG_PATH: join(dir, "registries.conf"), ...extra } };
}

function expectOneLineFailure(r: CliResult, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `should fail: ${r.stderr}`);
  const lines = stderrLines(r);
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
}

/** The imgcopy command with `input` on its stdin (run-imgcopy's gives none). */
function imgcopyWithInput(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<CliResult> {
  return withInput(process.execPath, ["--import", TSX, MAIN, ...args], env, input);
}

/** Runs `program`, answering each prompt when it appears on stdout; the whole output and the exit code. */
function converse(program: string, args: string[], env: NodeJS.ProcessEnv, script: Array<[string, string]>): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let text = "";
    let step = 0;
    let answeredUpTo = 0;
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      text += d;
      const next = script[step];
      if (next && text.indexOf(next[0], answeredUpTo) >= 0) {
        answeredUpTo = text.length;
        step++;
        child.stdin.write(next[1]);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (text += d));
    child.on("error", reject);
    child.on("close", (code) => {
      child.stdin.destroy();
      resolve({ code, text });
    });
  });
}

function withInput(program: string, args: string[], env: NodeJS.ProcessEnv, input: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function skopeoDigest(ref: string): Promise<string> {
  const out = await run("skopeo", ["inspect", "--cert-dir", certDir, "--creds", `${USER}:${PASS}`, "--format", "{{.Digest}}", ref]);
  return out.stdout.trim();
}

describe("TLS registry with htpasswd basic auth", () => {
  it("refuses a push without credentials: one line naming the registry, non-zero exit", async () => {
    const { env } = await caseEnv();
    const r = await imgcopy(["copy", "-q", "--dest-cert-dir", certDir, `oci:${layout}:x`, `docker://${registry.host}/team/web:nocreds`], { env });
    expectOneLineFailure(r, new RegExp(`${registry.host}.*(401|UNAUTHORIZED|authentication required)`, "i"));
  });

  it("login with a wrong password: one line naming the registry, exit 8, no auth file", async () => {
    const { dir, env } = await caseEnv();
    const r = await imgcopy(["login", "--cert-dir", certDir, "-u", USER, "-p", "wrong", registry.host], { env });
    expectOneLineFailure(r, new RegExp(`login to ${registry.host} refused for user ${USER}`));
    assert.equal(r.code, 8);
    await assert.rejects(stat(join(dir, "run", "containers", "auth.json")), /ENOENT/);
  });

  it("login writes the runtime auth file (0600 in a 0700 dir, other entries kept); push, skopeo, pull; logout", async () => {
    const { dir, env } = await caseEnv();
    const authFile = join(dir, "run", "containers", "auth.json");
    const login = await imgcopyWithInput(["login", "--cert-dir", certDir, "-u", USER, "--password-stdin", registry.host], env, `${PASS}\n`);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, "Login Succeeded!\n");
    assert.equal((await stat(authFile)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, "run", "containers"))).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(await readFile(authFile, "utf8")), { auths: { [registry.host]: { auth: b64(`${USER}:${PASS}`) } } });

    // Someone else's entries and keys survive our next login and logout.
    const other = { auths: { "other.example": { auth: b64("bob:pw") }, [registry.host]: { auth: b64("old:old") } }, credHelpers: { "x.example": "none" } };
    await writeFile(authFile, JSON.stringify(other));
    await chmod(authFile, 0o644);
    assert.equal((await imgcopy(["login", "--cert-dir", certDir, "-u", USER, "-p", PASS, registry.host], { env })).code, 0);
    const after = JSON.parse(await readFile(authFile, "utf8")) as typeof other;
    assert.deepEqual(after, { ...other, auths: { ...other.auths, [registry.host]: { auth: b64(`${USER}:${PASS}`) } } });
    assert.equal((await stat(authFile)).mode & 0o777, 0o600);

    const getLogin = await imgcopy(["login", "--get-login", registry.host], { env });
    assert.equal(getLogin.stdout, `${USER}\n`, getLogin.stderr);

    // The stored login is what a push and a pull use.
    const ref = `docker://${registry.host}/team/web:1`;
    const push = await imgcopy(["copy", "-q", "--dest-cert-dir", certDir, `oci:${layout}:x`, ref], { env });
    assert.equal(push.code, 0, push.stderr);
    assert.equal(await skopeoDigest(ref), built.digest);
    const pulled = join(dir, "pulled");
    const pull = await imgcopy(["copy", "-q", "--src-cert-dir", certDir, ref, `oci:${pulled}:y`], { env });
    assert.equal(pull.code, 0, pull.stderr);
    const index = JSON.parse(await readFile(join(pulled, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
    assert.equal(index.manifests[0]!.digest, built.digest);

    const logout = await imgcopy(["logout", registry.host], { env });
    assert.equal(logout.code, 0, logout.stderr);
    assert.equal(logout.stdout, `Removed login credentials for ${registry.host}\n`);
    assert.deepEqual(JSON.parse(await readFile(authFile, "utf8")), { auths: { "other.example": other.auths["other.example"] }, credHelpers: other.credHelpers });
    expectOneLineFailure(await imgcopy(["logout", registry.host], { env }), new RegExp(`not logged in to ${registry.host} \\(auth file ${authFile}\\)`));
    expectOneLineFailure(await imgcopy(["login", "--get-login", registry.host], { env }), new RegExp(`not logged in to ${registry.host}`));
    const all = await imgcopy(["logout", "--all"], { env });
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(JSON.parse(await readFile(authFile, "utf8")), { auths: {}, credHelpers: other.credHelpers });
  });

  it("asks for the username and the password on a terminal (password not echoed)", async () => {
    const { dir, env } = await caseEnv();
    const authFile = join(dir, "auth.json");
    const command = [process.execPath, "--import", TSX, MAIN, "login", "--cert-dir", certDir, "--authfile", authFile, registry.host]
      .map((w) => `'${w}'`)
      .join(" ");
    // script(1) gives the command a pseudo-terminal; each answer is typed once its prompt is shown.
    requireTool("script");
    const output = await converse("script", ["-qec", command, "/dev/null"], env, [
      ["Username: ", `${USER}\n`],
      ["Password: ", `${PASS}\n`],
    ]);
    assert.equal(output.code, 0, output.text);
    const afterPrompt = output.text.slice(output.text.indexOf("Password: "));
    assert.match(afterPrompt, /Login Succeeded!/);
    assert.ok(!afterPrompt.includes(PASS), `the password is not echoed: ${JSON.stringify(afterPrompt)}`);
    assert.match(output.text, new RegExp(`Username: ${USER}`), "the username is echoed");
    assert.deepEqual(JSON.parse(await readFile(authFile, "utf8")), { auths: { [registry.host]: { auth: b64(`${USER}:${PASS}`) } } });
  });

  it("auth files interoperate: imgcopy reads podman login's, skopeo reads imgcopy login's", async () => {
    const { dir, env } = await caseEnv();
    const ref = `docker://${registry.host}/team/base:1`;
    const byPodman = join(dir, "podman-auth.json");
    await run("podman", ["login", "--authfile", byPodman, "--cert-dir", certDir, "-u", USER, "-p", PASS, registry.host]);
    const read = await imgcopy(["inspect", "--authfile", byPodman, "--cert-dir", certDir, ref], { env });
    assert.equal(read.code, 0, read.stderr);
    assert.equal((JSON.parse(read.stdout) as { Digest: string }).Digest, built.digest);
    const byImgcopy = join(dir, "imgcopy-auth.json");
    const login = await imgcopy(["login", "--authfile", byImgcopy, "--cert-dir", certDir, "-u", USER, "-p", PASS, registry.host], { env });
    assert.equal(login.code, 0, login.stderr);
    const skopeo = await run("skopeo", ["inspect", "--authfile", byImgcopy, "--cert-dir", certDir, "--format", "{{.Digest}}", ref]);
    assert.equal(skopeo.stdout.trim(), built.digest);
    const podmanUser = await run("podman", ["login", "--get-login", "--authfile", byImgcopy, registry.host]);
    assert.equal(podmanUser.stdout.trim(), USER);
  });

  it("TLS: no CA fails naming TLS; the user's certs.d/HOST:PORT is found; --tls-verify=false skips verification", async () => {
    const { dir, env } = await caseEnv();
    const creds = ["--creds", `${USER}:${PASS}`];
    const ref = `docker://${registry.host}/team/base:1`;
    expectOneLineFailure(await imgcopy(["inspect", ...creds, ref], { env }), new RegExp(`TLS with ${registry.host} failed`));
    const insecure = await imgcopy(["inspect", ...creds, "--tls-verify=false", ref], { env });
    assert.equal(insecure.code, 0, insecure.stderr);
    const userCerts = join(dir, "home", ".config", "containers", "certs.d", registry.host);
    await mkdir(userCerts, { recursive: true });
    await copyFile(ca.caCertFile, join(userCerts, "ca.crt"));
    const found = await imgcopy(["inspect", ...creds, ref], { env });
    assert.equal(found.code, 0, found.stderr);
    assert.equal((JSON.parse(found.stdout) as { Digest: string }).Digest, built.digest);
  });

  it("registries.conf: a location rewrite (insecure) reaches the registry, a blocked prefix and a broken file are one line", async () => {
    const { dir, env } = await caseEnv();
    const conf = join(dir, "registries.conf");
    await writeFile(conf, `[[registry]]\nprefix = "alias.example/team"\nlocation = "${registry.host}/team"\ninsecure = true\n\n[[registry]]\nprefix = "${registry.host}/blocked"\nblocked = true\n`);
    const creds = ["--creds", `${USER}:${PASS}`];
    const viaAlias = await imgcopy(["inspect", ...creds, "docker://alias.example/team/base:1"], { env });
    assert.equal(viaAlias.code, 0, viaAlias.stderr);
    assert.equal((JSON.parse(viaAlias.stdout) as { Digest: string }).Digest, built.digest);
    expectOneLineFailure(
      await imgcopy(["inspect", "--cert-dir", certDir, ...creds, `docker://${registry.host}/blocked/x:1`], { env }),
      /blocked in registries\.conf/,
    );
    await writeFile(conf, `[[registry]]\nprefix = "a.example"\ninsecure = maybe\n`);
    expectOneLineFailure(await imgcopy(["inspect", ...creds, "docker://a.example/x:1"], { env }), new RegExp(`${conf}:3: `));
  });

  describe("credentials from each source", () => {
    const ref = (): string => `docker://${registry.host}/team/base:1`;
    const fileWith = async (path: string, content: unknown): Promise<void> => {
      await mkdir(join(path, ".."), { recursive: true });
      await writeFile(path, JSON.stringify(content));
    };
    const authsFile = (): unknown => ({ auths: { [registry.host]: { auth: b64(`${USER}:${PASS}`) } } });
    const inspectWith = async (env: NodeJS.ProcessEnv, args: string[] = []): Promise<CliResult> =>
      imgcopy(["inspect", "--cert-dir", certDir, ...args, ref()], { env });
    const expectReads = (r: CliResult): void => {
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { Digest: string }).Digest, built.digest);
    };

    it("none: refused", async () => {
      const { env } = await caseEnv();
      expectOneLineFailure(await inspectWith(env), new RegExp(registry.host));
    });

    it("--creds, --username/--password", async () => {
      const { env } = await caseEnv();
      expectReads(await inspectWith(env, ["--creds", `${USER}:${PASS}`]));
      expectReads(await inspectWith(env, ["--username", USER, "--password", PASS]));
    });

    it("--authfile and REGISTRY_AUTH_FILE", async () => {
      const { dir, env } = await caseEnv();
      await fileWith(join(dir, "given.json"), authsFile());
      expectReads(await inspectWith(env, ["--authfile", join(dir, "given.json")]));
      expectReads(await inspectWith({ ...env, REGISTRY_AUTH_FILE: join(dir, "given.json") }));
    });

    it("$XDG_RUNTIME_DIR, $XDG_CONFIG_HOME, $DOCKER_CONFIG, ~/.docker/config.json, ~/.dockercfg", async () => {
      const { dir, env } = await caseEnv();
      await fileWith(join(dir, "run", "containers", "auth.json"), authsFile());
      expectReads(await inspectWith(env));
      const c2 = await caseEnv({});
      await fileWith(join(c2.dir, "xdg", "containers", "auth.json"), authsFile());
      expectReads(await inspectWith({ ...c2.env, XDG_CONFIG_HOME: join(c2.dir, "xdg") }));
      const c3 = await caseEnv();
      await fileWith(join(c3.dir, "dockerconf", "config.json"), authsFile());
      expectReads(await inspectWith({ ...c3.env, DOCKER_CONFIG: join(c3.dir, "dockerconf") }));
      const c4 = await caseEnv();
      await fileWith(join(c4.dir, "home", ".docker", "config.json"), authsFile());
      expectReads(await inspectWith(c4.env));
      const c5 = await caseEnv();
      await fileWith(join(c5.dir, "home", ".dockercfg"), { [`https://${registry.host}`]: { auth: b64(`${USER}:${PASS}`) } });
      expectReads(await inspectWith(c5.env));
    });

    it("credHelpers and credsStore run docker-credential-NAME from PATH", async () => {
      const { dir, env } = await caseEnv();
      const bin = join(dir, "bin");
      await mkdir(bin);
      const helper = `#!/bin/sh\nread -r server\n[ "$server" = "${registry.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\nprintf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASS}"}' "$server"\n`;
      await writeFile(join(bin, "docker-credential-e2e"), helper);
      await chmod(join(bin, "docker-credential-e2e"), 0o755);
      const withPath = { ...env, PATH: `${bin}:${env.PATH ?? ""}` };
      await fileWith(join(dir, "run", "containers", "auth.json"), { credHelpers: { [registry.host]: "e2e" } });
      expectReads(await inspectWith(withPath));
      await fileWith(join(dir, "run", "containers", "auth.json"), { credsStore: "e2e" });
      expectReads(await inspectWith(withPath));
    });
  });
});
