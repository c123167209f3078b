// registries.conf end to end: a name rewritten to a real registry, pulls through a real
// pull-through mirror (docker-registry proxy) listed as [[registry.mirror]], pull-from-mirror
// honoured, pushes never sent to a mirror.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { copyImage } from "../../../src/copy/index.js";
import { parseOciReference } from "../../../transports/oci/reference.js";
import { MemoryImage, MemoryReference } from "../../copy/memory-transport.js";
import { addImage, tarOf, type BuiltImage } from "../../copy/test-images.js";
import { cleanEnv, imgcopy } from "../../cli/run-imgcopy.js";
import { startRegistry, type RegistryServer } from "../../helpers/registry-server.js";
import { run, tempDir } from "../../helpers/tools.js";

let primary: RegistryServer;
let mirror: RegistryServer;
let work: { path: string; cleanup: () => Promise<void> };
const images: Record<string, { layout: string; built: BuiltImage }> = {};
let n = 0;

before(async () => {
  work = await tempDir("imgcopy-mirror-");
  primary = await startRegistry();
  mirror = await startRegistry({ proxyRemoteUrl: `http://${primary.host}` });
  for (const name of ["bytag", "bydigest", "pushed"]) {
    const image = new MemoryImage();
    const built = addImage(image, { layers: [{ tar: await tarOf({ [`etc/${name}`]: `image ${name}\n` }), compression: "gzip" }] });
    const layout = join(work.path, `layout-${name}`);
    await copyImage(new MemoryReference("fixture", image), parseOciReference(`${layout}:x`), {});
    images[name] = { layout, built };
    if (name !== "pushed") await run("skopeo", ["copy", "--dest-tls-verify=false", `oci:${layout}:x`, `docker://${primary.host}/team/${name}:1`]);
  }
});
after(async () => {
  await mirror?.stop();
  await primary?.stop();
  await work?.cleanup();
});

async function envWith(conf: string): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = join(work.path, `case${++n}`);
  await mkdir(join(dir, "home"), { recursive: true });
  await writeFile(join(dir, "registries.conf"), conf);
  const { DOCKER_CONFIG: _d, REGISTRY_AUTH_FILE: _r, ...base } = cleanEnv(join(dir, "home"));
  return { dir, env: { ...base, XDG_RUNTIME_DIR: join(dir, "run"), REGISTRIES_CONFIG_PATH: join(dir, "registries.conf") } };
}

/** Whether a registry's storage holds the blob (a pull-through mirror stores what it served). */
function stores(registry: RegistryServer, digest: string): boolean {
  const hex = digest.slice("sha256:".length);
  return existsSync(join(registry.storageDir, "docker", "registry", "v2", "blobs", "sha256", hex.slice(0, 2), hex, "data"));
}

const conf = (mode: string): string => `[[registry]]
prefix = "origin.example"
location = "${primary.host}"
insecure = true

[[registry.mirror]]
location = "${mirror.host}"
insecure = true
pull-from-mirror = "${mode}"
`;

async function pull(env: NodeJS.ProcessEnv, ref: string, out: string): Promise<string> {
  const r = await imgcopy(["copy", "-q", ref, `oci:${out}:y`], { env });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(await readFile(join(out, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> }).manifests[0]!.digest;
}

describe("registries.conf mirrors and rewrites against real registries", () => {
  it("a tag pull of a rewritten name goes through the mirror (digest-only mirrors are skipped for it)", async () => {
    const { built } = images.bytag!;
    const layer = built.manifest.layers[0]!.digest;
    const skipped = await envWith(conf("digest-only"));
    assert.equal(await pull(skipped.env, "docker://origin.example/team/bytag:1", join(skipped.dir, "out")), built.digest);
    assert.equal(stores(mirror, layer), false, "a digest-only mirror is not used for a tag pull");
    const used = await envWith(conf("all"));
    assert.equal(await pull(used.env, "docker://origin.example/team/bytag:1", join(used.dir, "out")), built.digest);
    assert.equal(stores(mirror, layer), true, "the pull went through the mirror, which cached the layer");
  });

  it("a digest pull uses a digest-only mirror", async () => {
    const { built } = images.bydigest!;
    const { dir, env } = await envWith(conf("digest-only"));
    assert.equal(await pull(env, `docker://origin.example/team/bydigest@${built.digest}`, join(dir, "out")), built.digest);
    assert.equal(stores(mirror, built.manifest.layers[0]!.digest), true);
  });

  it("a push goes to the rewritten location, never to the mirror", async () => {
    const { layout, built } = images.pushed!;
    const { env } = await envWith(conf("all"));
    const r = await imgcopy(["copy", "-q", `oci:${layout}:x`, "docker://origin.example/team/pushed:1"], { env });
    assert.equal(r.code, 0, r.stderr);
    const digest = (await run("skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", `docker://${primary.host}/team/pushed:1`])).stdout.trim();
    assert.equal(digest, built.digest);
    assert.equal(stores(mirror, built.manifest.layers[0]!.digest), false);
  });
});
