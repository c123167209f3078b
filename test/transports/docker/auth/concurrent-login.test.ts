// Several logins writing one auth file at once (the file is read, changed and written back): each
// takes the auth file's lock for that, so every entry lands — in one process and across processes.
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dockerLogins } from "../../../../transports/docker/auth/login.js";
import { cleanEnv, imgcopy } from "../../../cli/run-imgcopy.js";
import { startFaultProxy, type FaultProxy } from "../../../helpers/fault-proxy.js";
import { startRegistry, type RegistryServer } from "../../../helpers/registry-server.js";
import { tempDir } from "../../../helpers/tools.js";

const HOSTS = 8;

describe("concurrent logins to one auth file", () => {
  let registry: RegistryServer;
  /** One registry, reached through several proxies: each is another HOST:PORT to log in to. */
  let proxies: FaultProxy[] = [];
  let work: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    work = await tempDir("imgcopy-concurrent-login-");
    registry = await startRegistry();
    proxies = await Promise.all(Array.from({ length: HOSTS }, () => startFaultProxy({ port: registry.port })));
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await registry?.stop();
    await work?.cleanup();
  });

  const entries = async (authFile: string): Promise<Record<string, { auth: string }>> =>
    (JSON.parse(await readFile(authFile, "utf8")) as { auths: Record<string, { auth: string }> }).auths;
  const auth = (i: number): string => Buffer.from(`user${i}:pass${i}`).toString("base64");

  it("in one process: every one of the concurrent logins is in the file afterwards", async () => {
    const authFile = join(work.path, "in-process", "auth.json");
    const ctx = { authFilePath: authFile, dockerInsecureSkipTLSVerify: true, env: { PATH: process.env.PATH, HOME: work.path } };
    await Promise.all(proxies.map((p, i) => dockerLogins.login(p.host, { username: `user${i}`, password: `pass${i}` }, ctx)));
    const auths = await entries(authFile);
    assert.deepEqual(Object.keys(auths).sort(), proxies.map((p) => p.host).sort());
    proxies.forEach((p, i) => assert.equal(auths[p.host]?.auth, auth(i)));
    assert.equal((await stat(authFile)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(work.path, "in-process")), ["auth.json"], "no lock or temp file left");
  });

  it("across processes: concurrent `imgcopy login` runs all land, and logouts too", async () => {
    const authFile = join(work.path, "cli", "auth.json");
    const env = cleanEnv(work.path);
    const logins = await Promise.all(
      proxies.map((p, i) => imgcopy(["login", "--tls-verify=false", "--authfile", authFile, "-u", `user${i}`, "-p", `pass${i}`, p.host], { env })),
    );
    logins.forEach((r) => assert.equal(r.code, 0, r.stderr));
    const auths = await entries(authFile);
    assert.deepEqual(Object.keys(auths).sort(), proxies.map((p) => p.host).sort());
    proxies.forEach((p, i) => assert.equal(auths[p.host]?.auth, auth(i)));
    const leaving = proxies.slice(0, HOSTS / 2);
    const logouts = await Promise.all(leaving.map((p) => imgcopy(["logout", "--authfile", authFile, p.host], { env })));
    logouts.forEach((r) => assert.equal(r.code, 0, r.stderr));
    assert.deepEqual(Object.keys(await entries(authFile)).sort(), proxies.slice(HOSTS / 2).map((p) => p.host).sort());
  });
});
