// inspect parity: `imgcopy inspect` (and --raw, --config) diffed byte for byte with skopeo 1.9.3's
// output over every source kind: oci, dir, docker-archive (skopeo's, the pre-Docker-25 layout, a
// podman multi-image archive, without end-of-archive blocks) and containers-storage (name, short name, id, prefix, the @ID forms,
// NAME@DIGEST, an image holding two manifests). Nothing is normalised: every field must match.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inspectImage, parseReference } from "../../src/index.js";
import { renderInspectResult } from "../../src/inspect.js";
import { buildBaseImage, createStore, skopeoCopy, type Store } from "../helpers/buildah-store.js";
import { run, tempDir } from "../helpers/tools.js";
import { makeOldLayout } from "../transports/docker-archive/fixtures/image-fixture.js";
import { imgcopy } from "../cli/run-imgcopy.js";

const MODES = [[], ["--raw"], ["--config"]] as const;

const firstDigestOf = (inspectJson: string): string => (JSON.parse(inspectJson) as { Digest: string }).Digest;

async function ours(ref: string, mode: readonly string[]): Promise<string> {
  const result = await inspectImage(await parseReference(ref), { raw: mode.includes("--raw"), config: mode.includes("--config") });
  return Buffer.from(renderInspectResult(result)).toString("utf8");
}

async function theirs(ref: string, mode: readonly string[]): Promise<string> {
  return (await run("skopeo", ["inspect", ...mode, ref])).stdout;
}

async function assertSameAsSkopeo(ref: string): Promise<void> {
  for (const mode of MODES) {
    assert.equal(await ours(ref, mode), await theirs(ref, mode), `imgcopy inspect ${mode.join(" ")} ${ref}`);
  }
}

describe("imgcopy inspect prints what skopeo 1.9.3 inspect prints", () => {
  let work: { path: string; cleanup: () => Promise<void> };
  let store: Store;
  let baseId: string;
  let firstDigest: string;
  let archive: string;

  before(async () => {
    work = await tempDir("imgcopy-inspect-parity-");
    store = await createStore("vfs");
    baseId = (await buildBaseImage(store)).id;
    // A second image with a docker.io/library/ name, for short names and multi-image archives.
    const c = await store.buildah(["from", "scratch"]);
    await writeFile(join(await store.buildah(["mount", c]), "plain.txt"), "plain\n");
    await store.buildah(["config", "--env", "A=<b>&", "--label", "z=1", "--label", "a=2", c]);
    await store.buildah(["commit", "-q", "--rm", c, "docker.io/library/plain:1"]);
    firstDigest = (await run("skopeo", ["inspect", "--format", "{{.Digest}}", store.containersStorageRef("localhost/base:1")])).stdout.trim();
    archive = join(work.path, "base.tar");
    await skopeoCopy(store.containersStorageRef("localhost/base:1"), `docker-archive:${archive}:example.com/team/base:1`);
    // Loading the archive back gives the same image (same config) a second manifest.
    await skopeoCopy(`docker-archive:${archive}`, store.containersStorageRef("localhost/base:loaded"));
  });

  after(async () => {
    await store?.cleanup();
    await work?.cleanup();
  });

  it("oci and dir", async () => {
    const oci = join(work.path, "oci");
    await skopeoCopy(store.containersStorageRef("localhost/base:1"), `oci:${oci}:t`);
    await assertSameAsSkopeo(`oci:${oci}:t`);
    await assertSameAsSkopeo(`oci:${oci}`);
    const dir = join(work.path, "dir");
    await skopeoCopy(store.containersStorageRef("docker.io/library/plain:1"), `dir:${dir}`);
    await assertSameAsSkopeo(`dir:${dir}`);
  });

  it("docker-archive: skopeo's archive, by path, by name (Name printed) and by @0", async () => {
    for (const suffix of ["", ":example.com/team/base:1", ":@0"]) await assertSameAsSkopeo(`docker-archive:${archive}${suffix}`);
    const named = JSON.parse(await ours(`docker-archive:${archive}:example.com/team/base:1`, [])) as { Name?: string };
    assert.equal(named.Name, "example.com/team/base");
  });

  it("docker-archive: without its end-of-archive blocks; gzipped (which skopeo 1.9.3 fails to read here: same output as the plain archive)", async () => {
    const gz = join(work.path, "base.tar.gz");
    await run("sh", ["-c", 'gzip -c "$1" > "$2"', "sh", archive, gz]);
    await assert.rejects(run("skopeo", ["inspect", `docker-archive:${gz}`]), /unexpected EOF/, "if skopeo reads it now, diff against it");
    for (const mode of MODES) assert.equal(await ours(`docker-archive:${gz}`, mode), await theirs(`docker-archive:${archive}`, mode));
    const nuls = /^block (\d+): \*\* Block of NULs \*\*$/m.exec((await run("tar", ["-tR", "-f", archive])).stdout);
    const bare = join(work.path, "no-eof.tar");
    await run("sh", ["-c", 'head -c "$1" "$2" > "$3"', "sh", String(Number(nuls![1]) * 512), archive, bare]);
    await assertSameAsSkopeo(`docker-archive:${bare}`);
  });

  it("docker-archive: the layout of docker save before Docker 25", async () => {
    const old = join(work.path, "old.tar");
    await mkdir(join(work.path, "old-work"));
    await makeOldLayout(archive, join(work.path, "old-work"), old);
    await assertSameAsSkopeo(`docker-archive:${old}`);
  });

  it("docker-archive: a multi-image archive from podman save -m, by index and by name", async () => {
    const multi = join(work.path, "multi.tar");
    await store.podman(["save", "-q", "-m", "-o", multi, "localhost/base:1", "docker.io/library/plain:1"]);
    for (const suffix of [":@0", ":@1", ":localhost/base:1", ":plain:1"]) await assertSameAsSkopeo(`docker-archive:${multi}${suffix}`);
  });

  it("containers-storage: by name, short name, id, prefix and the @ID forms", async () => {
    const refs = [
      "localhost/base:1",
      "plain:1",
      "docker.io/library/plain:1",
      baseId,
      baseId.slice(0, 12),
      `@${baseId}`,
      `@${baseId.slice(0, 8)}`,
      `localhost/base@${baseId}`,
      `localhost/base:1@${baseId.slice(0, 8)}`,
    ];
    for (const r of refs) await assertSameAsSkopeo(store.containersStorageRef(r));
  });

  it("containers-storage: an image with two manifests gives the digest containers/image picks, and NAME@DIGEST its manifest", async () => {
    const loaded = store.containersStorageRef("localhost/base:loaded");
    await assertSameAsSkopeo(loaded);
    await assertSameAsSkopeo(store.containersStorageRef("localhost/base:1"));
    await assertSameAsSkopeo(store.containersStorageRef(`localhost/base@${firstDigest}`));
    const picked = JSON.parse(await ours(loaded, [])) as { Digest: string };
    assert.notEqual(picked.Digest, firstDigest, "the manifest written last is served, not the first recorded");
    const byDigest = JSON.parse(await ours(store.containersStorageRef(`localhost/base@${firstDigest}`), [])) as { Digest: string };
    assert.equal(byDigest.Digest, firstDigest);
  });

  it("containers-storage: never a container, even one named like the image; container-copy: the container first; list shows which is which", async () => {
    await store.buildah(["tag", "localhost/base:1", "localhost/app:latest"]);
    const ctr = await store.buildah(["from", "--pull=never", "--name", "app", "localhost/app:latest"]);
    await writeFile(join(await store.buildah(["mount", ctr]), "uncommitted.txt"), "x\n");
    const image = await ours(store.containersStorageRef("localhost/app"), []);
    assert.equal(image, await theirs(store.containersStorageRef("localhost/app"), []));
    assert.equal((JSON.parse(image) as { Digest: string }).Digest, firstDigestOf(await theirs(store.containersStorageRef("localhost/base:1"), [])));
    const short = await imgcopy(["inspect", store.containersStorageRef("app")]);
    assert.equal(short.code, 3, short.stderr);
    assert.match(short.stderr, /no image "app" \(docker\.io\/library\/app:latest\).*name the image localhost\/app:latest\)\n$/);
    await assert.rejects(run("skopeo", ["inspect", store.containersStorageRef("app")]), "skopeo refuses it too");
    const container = await imgcopy(["inspect", "--config", store.containerCopyRef("app")]);
    assert.equal(container.code, 0, container.stderr);
    assert.ok((JSON.parse(container.stdout) as { history: unknown[] }).history.length > 0);
    assert.notEqual(container.stdout, await theirs(store.containersStorageRef("localhost/app"), ["--config"]), "the container, with its own history entry");
    const listed = await imgcopy(["list", store.containerCopyRef("")]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^[0-9a-f]{12}\s+container\s+app\s/m);
    assert.match(listed.stdout, /^[0-9a-f]{12}\s+image\s+\S*localhost\/app:latest/m);
  });

  it("the CLI prints the same bytes, and refuses a name skopeo refuses", async () => {
    const ref = store.containersStorageRef("localhost/base:1");
    const r = await imgcopy(["inspect", ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, await theirs(ref, []));
    const short = await imgcopy(["inspect", store.containersStorageRef("base:1")]);
    assert.notEqual(short.code, 0);
    assert.match(short.stderr, /^imgcopy: no image "base:1" \(docker\.io\/library\/base:1\) in store .*name the image localhost\/base:1\)\n$/);
    await assert.rejects(run("skopeo", ["inspect", store.containersStorageRef("base:1")]));
  });
});
