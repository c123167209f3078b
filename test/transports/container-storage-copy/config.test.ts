// The config container-copy builds for a container, compared with what `buildah commit` makes of
// the same container; the base comes from buildah.json, the image's config, or a minimal one.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { containerCopyTransport } from "../../../transports/container-storage-copy/index.js";
import { goArch } from "../../../transports/container-storage-copy/config.js";
import { placeholderDigest } from "../../../transports/container-storage-copy/image-manifest.js";
import { readStoreRecords } from "../../../transports/container-storage-copy/store/records.js";
import type { SystemContext } from "../../../src/types.js";
import {
  BASE_CONFIG,
  buildBaseImage,
  buildChangedContainer,
  buildScratchContainer,
  commitContainer,
  createStore,
  type BaseImage,
  type Store,
  type StorageDriver,
} from "../../helpers/buildah-store.js";

interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}
interface Config {
  created: string;
  author?: string;
  architecture: string;
  os: string;
  config: Record<string, unknown>;
  rootfs: { type: string; diff_ids: string[] };
  history?: History[];
}
interface Manifest {
  config: { digest: string; size: number };
  layers: { digest: string; size: number; mediaType: string }[];
  annotations?: Record<string, string>;
}

const RUNTIME_KEYS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "Labels", "User", "ExposedPorts", "Volumes", "StopSignal"];

const pick = (cfg: Record<string, unknown>) => Object.fromEntries(RUNTIME_KEYS.map((k) => [k, cfg[k]]));

/** The manifest and config container-copy serves for `name` (the fast inspect path). */
async function served(store: Store, name: string, ctx: SystemContext = {}): Promise<{ manifest: Manifest; config: Config }> {
  const src = await containerCopyTransport.parseReference(`${store.bracket}${name}`).newImageSource(ctx);
  try {
    const manifest = JSON.parse(Buffer.from((await src.getManifest()).bytes).toString()) as Manifest;
    const blob = await src.getBlob({ digest: manifest.config.digest, size: manifest.config.size });
    assert.equal(blob.size, manifest.config.size);
    return { manifest, config: JSON.parse(await text(blob.stream)) as Config };
  } finally {
    await src.close();
  }
}

async function buildahImageConfig(store: Store, image: string): Promise<Config> {
  return (JSON.parse(await store.buildah(["inspect", "--type", "image", image])) as { OCIv1: Config }).OCIv1;
}

for (const driver of ["vfs", "overlay"] as StorageDriver[]) {
  describe(`container config (${driver})`, () => {
    let store: Store;
    let base: BaseImage;
    before(async () => {
      store = await createStore(driver);
      base = await buildBaseImage(store);
      await buildChangedContainer(store, base, "changed");
    });
    after(() => store.cleanup());

    it("equals buildah commit's for Env, Cmd, Entrypoint, WorkingDir, Labels, User, ExposedPorts, Volumes, StopSignal", async () => {
      const ours = await served(store, "changed");
      await commitContainer(store, "changed", "localhost/committed:1");
      const theirs = await buildahImageConfig(store, "localhost/committed:1");
      assert.deepEqual(pick(ours.config.config), pick(theirs.config));
      assert.equal(ours.config.architecture, theirs.architecture);
      assert.equal(ours.config.os, theirs.os);
    });

    it("keeps the base layers' DiffIDs from the records and adds one placeholder for the read-write layer", async () => {
      const { manifest, config } = await served(store, "changed");
      const theirs = await buildahImageConfig(store, "localhost/committed:1");
      const records = await readStoreRecords({ driver, graphRoot: store.graphRoot, runRoot: store.runRoot, additionalImageStores: [], transientStore: false });
      const ctr = records.containers.find((c) => c.record.names?.includes("changed"))!.record;
      const baseIds = theirs.rootfs.diff_ids.slice(0, -1);
      assert.equal(baseIds.length, 2);
      assert.deepEqual(config.rootfs.diff_ids.slice(0, -1), baseIds);
      const rw = records.layers.get(ctr.layer)!.record;
      const parent = records.layers.get(rw.parent!)!.record;
      assert.equal(parent["diff-digest"], baseIds[1]);
      assert.equal(config.rootfs.diff_ids.at(-1), placeholderDigest(ctr.layer));
      assert.deepEqual(
        manifest.layers.map((l) => l.digest),
        config.rootfs.diff_ids,
      );
      assert.equal(manifest.layers[0]!.size, records.layers.get(parent.parent!)!.record["diff-size"]);
      assert.equal(manifest.layers[2]!.size, 0);
    });

    it("adds one history entry like buildah commit's (created_by /bin/sh, comment FROM the image)", async () => {
      const { config } = await served(store, "changed");
      const theirs = await buildahImageConfig(store, "localhost/committed:1");
      const strip = (h: History[] | undefined) => (h ?? []).map(({ created: _c, ...rest }) => rest);
      assert.deepEqual(strip(config.history), strip(theirs.history));
      assert.deepEqual(config.history!.slice(0, -1), theirs.history!.slice(0, -1));
      assert.equal(config.history!.at(-1)!.created, config.created);
    });

    it("carries buildah's manifest annotations and adds the commit's", async () => {
      const { manifest } = await served(store, "changed", { commit: { annotations: { "org.example.k": "v" } } });
      assert.deepEqual(manifest.annotations, {
        "org.opencontainers.image.base.digest": (JSON.parse(await store.buildah(["inspect", "--type", "image", base.name])) as { FromImageDigest: string }).FromImageDigest,
        "org.opencontainers.image.base.name": base.name,
        "org.example.k": "v",
      });
    });
  });
}

describe("container config: other bases and commit options (vfs)", () => {
  let store: Store;
  let base: BaseImage;
  before(async () => {
    store = await createStore("vfs");
    base = await buildBaseImage(store);
    await buildChangedContainer(store, base, "changed");
    await store.podman(["create", "--name", "podman-ctr", base.name]);
    const bare = await buildScratchContainer(store, "bare");
    await rm(join(store.graphRoot, "vfs-containers", bare.id, "userdata", "buildah.json"));
  });
  after(() => store.cleanup());

  it("builds a podman container's config from its image's config and podman's record (podman 4.3 adds TERM and container to the env)", async () => {
    const { config } = await served(store, "podman-ctr");
    const image = await buildahImageConfig(store, base.name);
    const { Env: env, ...rest } = config.config;
    const { Env: imageEnv, ...imageRest } = image.config;
    assert.deepEqual(rest, imageRest);
    assert.deepEqual(new Set(env as string[]), new Set([...(imageEnv as string[]), "TERM=xterm", "container=podman"]));
    assert.equal(config.config.StopSignal, BASE_CONFIG.stopSignal);
    assert.deepEqual(config.rootfs.diff_ids.slice(0, -1), image.rootfs.diff_ids);
    assert.equal(config.history!.length, image.history!.length + 1);
    assert.equal(config.history!.at(-1)!.comment, `FROM ${base.name}`, "podman commit's comment, from the container's metadata");
  });

  it("builds a minimal config for a scratch container without buildah.json", async () => {
    const { config, manifest } = await served(store, "bare");
    assert.equal(config.architecture, goArch());
    assert.equal(config.os, "linux");
    assert.deepEqual(config.config, {});
    assert.equal(manifest.layers.length, 1);
    assert.deepEqual(config.history!.map((h) => h.created_by), ["/bin/sh"]);
  });

  it("applies author, message, created_by, timestamp and changes", async () => {
    const timestamp = new Date("2024-05-06T07:08:09Z");
    const { config } = await served(store, "changed", {
      commit: {
        author: "A U Thor",
        message: "my commit",
        createdBy: "imgcopy test",
        timestamp,
        changes: ["ENV CHANGED=again EXTRA=1", 'CMD ["run", "it"]', "WORKDIR sub", "LABEL a=b", "EXPOSE 53/udp", "USER nobody", "STOPSIGNAL SIGKILL", "VOLUME /v2"],
      },
    });
    assert.equal(config.created, "2024-05-06T07:08:09Z");
    assert.equal(config.author, "A U Thor");
    assert.deepEqual(config.history!.at(-1), { created: "2024-05-06T07:08:09Z", created_by: "imgcopy test", author: "A U Thor", comment: "my commit" });
    assert.ok((config.config.Env as string[]).includes("CHANGED=again"));
    assert.ok((config.config.Env as string[]).includes("EXTRA=1"));
    assert.equal((config.config.Env as string[]).filter((e) => e.startsWith("CHANGED=")).length, 1);
    assert.deepEqual(config.config.Cmd, ["run", "it"]);
    assert.equal(config.config.WorkingDir, "/added/sub");
    assert.equal((config.config.Labels as Record<string, string>).a, "b");
    assert.ok("53/udp" in (config.config.ExposedPorts as object));
    assert.equal(config.config.User, "nobody");
    assert.equal(config.config.StopSignal, "SIGKILL");
    assert.ok("/v2" in (config.config.Volumes as object));
  });

  it("takes SOURCE_DATE_EPOCH from the context's environment, and drops history when asked", async () => {
    const { config } = await served(store, "changed", { env: { SOURCE_DATE_EPOCH: "1700000000" }, commit: { omitHistory: true } });
    assert.equal(config.created, "2023-11-14T22:13:20Z");
    assert.equal(config.history, undefined);
  });

  it("serves an image's stored config unchanged, so that its digest is the image id", async () => {
    const { manifest, config } = await served(store, base.name);
    assert.equal(manifest.config.digest, `sha256:${base.id}`);
    const image = await buildahImageConfig(store, base.name);
    assert.deepEqual(config.rootfs.diff_ids, image.rootfs.diff_ids);
    assert.deepEqual(
      manifest.layers.map((l) => l.digest),
      image.rootfs.diff_ids,
    );
  });
});
