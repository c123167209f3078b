// Cert dir rules (which dir, *.crt CAs, *.cert + *.key pairs, one half alone refused) and the
// verify / plain-HTTP decision; the CAs found are checked in a real TLS handshake.
import assert from "node:assert/strict";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect, rootCertificates } from "node:tls";
import { certDirCandidates, readCertDir, registryTls } from "../../../../transports/docker/tls/tls-config.js";
import { makeTestCa, type TestCa } from "../../../helpers/test-ca.js";
import { tempDir } from "../../../helpers/tools.js";

let ca: TestCa;
let work: { path: string; cleanup: () => Promise<void> };
let n = 0;

before(async () => {
  ca = await makeTestCa();
  work = await tempDir("imgcopy-tls-");
});
after(async () => {
  await ca?.cleanup();
  await work?.cleanup();
});

async function newDir(files: Record<string, string>): Promise<string> {
  const dir = join(work.path, `d${++n}`);
  await mkdir(dir, { recursive: true });
  for (const [name, from] of Object.entries(files)) await copyFile(from, join(dir, name));
  return dir;
}

describe("cert dirs", () => {
  it("are tried as --cert-dir alone, else ~/.config/containers/certs.d, /etc/containers/certs.d, /etc/docker/certs.d", () => {
    assert.deepEqual(certDirCandidates("reg.example:5000", { env: { HOME: "/h" } }), [
      "/h/.config/containers/certs.d/reg.example:5000",
      "/etc/containers/certs.d/reg.example:5000",
      "/etc/docker/certs.d/reg.example:5000",
    ]);
    assert.deepEqual(certDirCandidates("reg.example", { env: { HOME: "/h", XDG_CONFIG_HOME: "/x" } })[0], "/x/containers/certs.d/reg.example");
    assert.deepEqual(certDirCandidates("reg.example:5000", { env: { HOME: "/h" }, dockerCertPath: "/given" }), ["/given"]);
  });

  it("reads *.crt as CAs and a *.cert + *.key pair as the client certificate", async () => {
    const dir = await newDir({ "ca.crt": ca.caCertFile, "client.cert": ca.clientCertFile, "client.key": ca.clientKeyFile });
    const got = await readCertDir(dir);
    assert.equal(got.ca?.length, 1);
    assert.equal(got.ca![0]!.toString(), ca.caPem);
    assert.match(got.cert!.toString(), /BEGIN CERTIFICATE/);
    assert.match(got.key!.toString(), /PRIVATE KEY/);
  });

  it("refuses a client certificate without its key, and a key without its certificate, naming the file", async () => {
    const lonelyCert = await newDir({ "client.cert": ca.clientCertFile });
    await assert.rejects(readCertDir(lonelyCert), new RegExp(`cert dir ${lonelyCert}: client certificate client.cert has no key client.key`));
    const lonelyKey = await newDir({ "client.key": ca.clientKeyFile });
    await assert.rejects(readCertDir(lonelyKey), new RegExp(`cert dir ${lonelyKey}: client key client.key has no certificate client.cert`));
  });

  it("refuses a *.crt that holds no valid certificate, naming it", async () => {
    const dir = await newDir({});
    await writeFile(join(dir, "broken.crt"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    await assert.rejects(readCertDir(dir), new RegExp(`${join(dir, "broken.crt")}: not a valid certificate`));
    const empty = await newDir({});
    await writeFile(join(empty, "empty.crt"), "nothing here\n");
    await assert.rejects(readCertDir(empty), /empty.crt: no PEM certificate in it/);
  });

  it("finds the user's certs.d/HOST:PORT; a --cert-dir that does not exist is an error", async () => {
    const home = join(work.path, `home${++n}`);
    await mkdir(join(home, ".config", "containers", "certs.d", "127.0.0.1:5999"), { recursive: true });
    await copyFile(ca.caCertFile, join(home, ".config", "containers", "certs.d", "127.0.0.1:5999", "ca.crt"));
    const tls = await registryTls("127.0.0.1:5999", { env: { HOME: home } }, false);
    assert.equal(tls.ca?.[0]?.toString(), ca.caPem);
    assert.equal((await registryTls("127.0.0.1:6000", { env: { HOME: home } }, false)).ca, undefined);
    await assert.rejects(registryTls("127.0.0.1:5999", { env: { HOME: home }, dockerCertPath: join(home, "nope") }, false), /cert dir .*nope: no such directory/);
  });
});

describe("verify and plain HTTP", () => {
  it("--tls-verify wins both ways over registries.conf's insecure", async () => {
    const env = { HOME: join(work.path, "nohome") };
    assert.deepEqual(await registryTls("h:1", { env }, false), { verify: true, allowPlainHttp: false });
    assert.deepEqual(await registryTls("h:1", { env }, true), { verify: false, allowPlainHttp: true });
    assert.deepEqual(await registryTls("h:1", { env, dockerInsecureSkipTLSVerify: true }, false), { verify: false, allowPlainHttp: true });
    assert.deepEqual(await registryTls("h:1", { env, dockerInsecureSkipTLSVerify: false }, true), { verify: true, allowPlainHttp: false });
  });

  it("the CAs found make a real TLS handshake with the test CA's server succeed, and fail without them", async () => {
    const { readFile } = await import("node:fs/promises");
    const server: Server = createServer({ cert: await readFile(ca.serverCertFile), key: await readFile(ca.serverKeyFile) }, (_q, s) => s.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const dir = await newDir({ "ca.crt": ca.caCertFile });
      const tls = await registryTls(`127.0.0.1:${port}`, { env: {}, dockerCertPath: dir }, false);
      const handshake = (caList: string[] | undefined): Promise<void> =>
        new Promise((resolve, reject) => {
          const socket = connect({ host: "127.0.0.1", port, ...(caList ? { ca: caList } : {}), rejectUnauthorized: tls.verify }, () => {
            socket.end();
            resolve();
          });
          socket.once("error", reject);
        });
      await handshake([...rootCertificates, ...tls.ca!.map((b) => b.toString())]);
      await assert.rejects(handshake(undefined), /self-signed certificate|unable to verify|unable to get local issuer/);
    } finally {
      server.close();
    }
  });
});
