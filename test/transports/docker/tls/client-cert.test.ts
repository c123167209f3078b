// A registry that demands client certificates (docker-registry's http.tls.clientcas): the cert
// dir's *.cert/*.key pair is presented, from --cert-dir or the user's certs.d; without it, one line.
import assert from "node:assert/strict";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { copyImage } from "../../../../src/copy/index.js";
import { parseOciReference } from "../../../../transports/oci/reference.js";
import { MemoryImage, MemoryReference } from "../../../copy/memory-transport.js";
import { addImage, tarOf, type BuiltImage } from "../../../copy/test-images.js";
import { cleanEnv, imgcopy, stderrLines } from "../../../cli/run-imgcopy.js";
import { startRegistry, type RegistryServer } from "../../../helpers/registry-server.js";
import { makeTestCa, type TestCa } from "../../../helpers/test-ca.js";
import { run, tempDir } from "../../../helpers/tools.js";

let ca: TestCa;
let registry: RegistryServer;
let work: { path: string; cleanup: () => Promise<void> };
let layout: string;
let built: BuiltImage;
let withPair: string;
let caOnly: string;

before(async () => {
  work = await tempDir("imgcopy-mtls-");
  ca = await makeTestCa();
  registry = await startRegistry({ tls: { certFile: ca.serverCertFile, keyFile: ca.serverKeyFile, clientCaFiles: [ca.caCertFile] } });
  withPair = join(work.path, "with-pair");
  caOnly = join(work.path, "ca-only");
  for (const dir of [withPair, caOnly]) {
    await mkdir(dir);
    await copyFile(ca.caCertFile, join(dir, "ca.crt"));
  }
  await copyFile(ca.clientCertFile, join(withPair, "client.cert"));
  await copyFile(ca.clientKeyFile, join(withPair, "client.key"));
  const image = new MemoryImage();
  built = addImage(image, { layers: [{ tar: await tarOf({ "etc/hello": "hello, client certificate\n" }), compression: "gzip" }] });
  layout = join(work.path, "layout");
  await copyImage(new MemoryReference("fixture", image), parseOciReference(`${layout}:x`), {});
});
after(async () => {
  await registry?.stop();
  await ca?.cleanup();
  await work?.cleanup();
});

async function env(name: string): Promise<NodeJS.ProcessEnv> {
  const home = join(work.path, name);
  await mkdir(home, { recursive: true });
  await writeFile(join(home, "registries.conf"), "");
  const { DOCKER_CONFIG: _d, REGISTRY_AUTH_FILE: _r, ...base } = cleanEnv(home);
  return { ...base, XDG_RUNTIME_DIR: join(home, "run"), REGISTRIES_CONFIG_PATH: join(home, "registries.conf") };
}

describe("client certificates", () => {
  it("push with --dest-cert-dir holding the pair; skopeo with the same dir reads the image", async () => {
    const ref = `docker://${registry.host}/team/mtls:1`;
    const r = await imgcopy(["copy", "-q", "--dest-cert-dir", withPair, `oci:${layout}:x`, ref], { env: await env("h1") });
    assert.equal(r.code, 0, r.stderr);
    const out = await run("skopeo", ["inspect", "--cert-dir", withPair, "--format", "{{.Digest}}", ref]);
    assert.equal(out.stdout.trim(), built.digest);
  });

  it("without the pair the registry refuses the handshake: one line naming the registry", async () => {
    const r = await imgcopy(["inspect", "--cert-dir", caOnly, `docker://${registry.host}/team/mtls:1`], { env: await env("h2") });
    assert.notEqual(r.code, 0);
    assert.equal(stderrLines(r).length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(registry.host));
  });

  it("--tls-verify=false (no CA is loaded then) still presents the pair of a cert dir without a CA", async () => {
    const pairOnly = join(work.path, "pair-only");
    await mkdir(pairOnly);
    await copyFile(ca.clientCertFile, join(pairOnly, "client.cert"));
    await copyFile(ca.clientKeyFile, join(pairOnly, "client.key"));
    const r = await imgcopy(["inspect", "--tls-verify=false", "--cert-dir", pairOnly, `docker://${registry.host}/team/mtls:1`], { env: await env("h4") });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { Digest: string }).Digest, built.digest);
  });

  it("the pair is found in ~/.config/containers/certs.d/HOST:PORT without --cert-dir", async () => {
    const e = await env("h3");
    const dir = join(e.HOME!, ".config", "containers", "certs.d", registry.host);
    await mkdir(dir, { recursive: true });
    for (const f of ["ca.crt", "client.cert", "client.key"]) await copyFile(join(withPair, f), join(dir, f));
    const r = await imgcopy(["inspect", `docker://${registry.host}/team/mtls:1`], { env: e });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { Digest: string }).Digest, built.digest);
  });
});
