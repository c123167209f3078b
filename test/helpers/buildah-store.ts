// Real containers/storage stores built with buildah in temp dirs (vfs or overlay), the images and
// containers the transport tests read, and skopeo exports of them. No network: all FROM scratch.
import { existsSync } from "node:fs";
import { readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { run, tempDir } from "./tools.js";
import { applyContainerChanges, writeBaseLayer1, writeBaseLayer2, writeScratchContent } from "./rootfs-content.js";

export { BASE, CHANGES, OLD_MTIME, NET_BIND_CAPABILITY, pseudoRandom } from "./rootfs-content.js";

export type StorageDriver = "vfs" | "overlay";

export interface Store {
  driver: StorageDriver;
  /** The temp dir holding the graph root, run root and storage.conf. */
  dir: string;
  graphRoot: string;
  runRoot: string;
  /** A storage.conf naming this store (buildah and podman runs use it through CONTAINERS_STORAGE_CONF). */
  storageConf: string;
  /** "[driver@graphRoot+runRoot]", as the container-copy and containers-storage references spell a store. */
  bracket: string;
  /** The environment the tools run with. */
  env: NodeJS.ProcessEnv;
  /** Runs buildah on this store; resolves with its trimmed stdout. */
  buildah(args: string[]): Promise<string>;
  /** Runs podman on this store (cgroupfs, file events: no systemd needed); resolves with trimmed stdout. */
  podman(args: string[]): Promise<string>;
  /** `container-copy:[bracket]name` */
  containerCopyRef(nameOrId: string): string;
  /** `containers-storage:[bracket]name`, as skopeo takes it. */
  containersStorageRef(nameOrId: string): string;
  /** Unmounts everything under the store and removes it. */
  cleanup(): Promise<void>;
}

export interface ImageConfigSpec {
  env: string[];
  cmd: string[];
  entrypoint: string[];
  workingDir: string;
  labels: Record<string, string>;
  user: string;
  ports: string[];
  volumes: string[];
  stopSignal: string;
}

/** What `buildah config` sets on the base image. */
export const BASE_CONFIG: ImageConfigSpec = {
  env: ["PATH=/usr/bin:/bin", "APP_MODE=base"],
  cmd: ["--help"],
  entrypoint: ["/usr/bin/tool"],
  workingDir: "/opt/app",
  labels: { "org.example.stage": "base", maintainer: "imgcopy tests" },
  user: "app",
  ports: ["8080/tcp"],
  volumes: ["/data"],
  stopSignal: "SIGQUIT",
};

/** What `buildah config` changes on the changed container (added to the base's values). */
export const CONTAINER_CONFIG: ImageConfigSpec = {
  env: ["CHANGED=yes"],
  cmd: ["--changed"],
  entrypoint: ["/usr/bin/tool", "--verbose"],
  workingDir: "/added",
  labels: { "org.example.stage": "container", changed: "true" },
  user: "1000:1000",
  ports: ["9090/udp"],
  volumes: ["/cache"],
  stopSignal: "SIGINT",
};

export interface BaseImage {
  /** "localhost/NAME:1" */
  name: string;
  id: string;
}

export interface WorkingContainer {
  name: string;
  id: string;
  /** Where `buildah mount` put its root (kept mounted until the store's cleanup). */
  mountPoint: string;
}

const execFileP = promisify(execFile);

/** A fresh store in a temp dir. Call cleanup() when done (it unmounts overlay mounts first). */
export async function createStore(driver: StorageDriver): Promise<Store> {
  const tmp = await tempDir(`imgcopy-${driver}-store-`);
  const graphRoot = join(tmp.path, "graph");
  const runRoot = join(tmp.path, "run");
  await mkdir(graphRoot);
  await mkdir(runRoot);
  const storageConf = join(tmp.path, "storage.conf");
  await writeFile(storageConf, `[storage]\ndriver = "${driver}"\ngraphroot = "${graphRoot}"\nrunroot = "${runRoot}"\n`);
  const env = { ...process.env, CONTAINERS_STORAGE_CONF: storageConf };
  const storeFlags = ["--root", graphRoot, "--runroot", runRoot, "--storage-driver", driver];
  const podmanFlags = [...storeFlags, "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", join(tmp.path, "podman-tmp")];
  const bracket = `[${driver}@${graphRoot}+${runRoot}]`;
  const store: Store = {
    driver,
    dir: tmp.path,
    graphRoot,
    runRoot,
    storageConf,
    bracket,
    env,
    buildah: async (args) => (await run("buildah", [...storeFlags, ...args], { env })).stdout.trim(),
    podman: async (args) => (await run("podman", [...podmanFlags, ...args], { env })).stdout.trim(),
    containerCopyRef: (n) => `container-copy:${bracket}${n}`,
    containersStorageRef: (n) => `containers-storage:${bracket}${n}`,
    cleanup: async () => {
      // podman's lock table (/dev/shm/libpod_lock) is machine-wide: a container or volume deleted with
      // its store but never removed through podman keeps its lock for ever, until podman runs out of them.
      if (existsSync(join(graphRoot, "libpod"))) {
        await execFileP("podman", [...podmanFlags, "rm", "--all", "--force"], { env }).catch(() => undefined);
        await execFileP("podman", [...podmanFlags, "volume", "rm", "--all", "--force"], { env }).catch(() => undefined);
      }
      await execFileP("buildah", [...storeFlags, "umount", "--all"], { env }).catch(() => undefined);
      await unmountUnder(tmp.path);
      await rm(tmp.path, { recursive: true, force: true });
    },
  };
  return store;
}

/** Unmounts every mount at or below `dir`, deepest first (overlay merged dirs, the driver's bind mount). */
export async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile("/proc/self/mounts", "utf8"))
    .split("\n")
    .map((l) => (l.split(" ")[1] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    await execFileP("umount", [m]).catch(() => execFileP("umount", ["-l", m]));
  }
}

/** Applies a config spec to a working container with `buildah config`. */
export async function configure(store: Store, container: string, spec: ImageConfigSpec): Promise<void> {
  const args = ["config"];
  for (const e of spec.env) args.push("--env", e);
  args.push("--cmd", JSON.stringify(spec.cmd), "--entrypoint", JSON.stringify(spec.entrypoint));
  args.push("--workingdir", spec.workingDir, "--user", spec.user, "--stop-signal", spec.stopSignal);
  for (const [k, v] of Object.entries(spec.labels)) args.push("--label", `${k}=${v}`);
  for (const p of spec.ports) args.push("--port", p);
  for (const v of spec.volumes) args.push("--volume", v);
  await store.buildah([...args, container]);
}

async function containerId(store: Store, name: string): Promise<string> {
  return store.buildah(["inspect", "--type", "container", "--format", "{{.ContainerID}}", name]);
}

/** Commits a working container as `name`; resolves with the image id. */
export async function commitContainer(store: Store, container: string, name: string, extra: string[] = []): Promise<string> {
  const out = await store.buildah(["commit", "--quiet", ...extra, container, name]);
  return out.split("\n").pop() ?? out;
}

/**
 * The base image "localhost/NAME:1", two layers: layer 1 from scratch (files, dirs, symlinks, a hard
 * link, owners, modes, setuid, a user xattr, an old mtime), layer 2 on top (new files, deletions) + config.
 */
export async function buildBaseImage(store: Store, name = "base"): Promise<BaseImage> {
  const stage1 = await store.buildah(["from", "--name", `${name}-stage1`, "scratch"]);
  await writeBaseLayer1(await store.buildah(["mount", stage1]));
  await commitContainer(store, stage1, `localhost/${name}-stage1:1`, ["--rm"]);
  const stage2 = await store.buildah(["from", "--pull=never", "--name", `${name}-stage2`, `localhost/${name}-stage1:1`]);
  await writeBaseLayer2(await store.buildah(["mount", stage2]));
  await configure(store, stage2, BASE_CONFIG);
  const full = `localhost/${name}:1`;
  const id = await commitContainer(store, stage2, full, ["--rm"]);
  await store.buildah(["rmi", `localhost/${name}-stage1:1`]);
  return { name: full, id };
}

/**
 * A working container from `base` with every change in CHANGES written through its `buildah mount`
 * point, and the CONTAINER_CONFIG changes applied. It stays mounted.
 */
export async function buildChangedContainer(store: Store, base: BaseImage, name = "changed"): Promise<WorkingContainer> {
  await store.buildah(["from", "--pull=never", "--name", name, base.name]);
  const mountPoint = await store.buildah(["mount", name]);
  await applyContainerChanges(mountPoint);
  await configure(store, name, CONTAINER_CONFIG);
  return { name, id: await containerId(store, name), mountPoint };
}

/** A working container from scratch with a few files (writeScratchContent); it stays mounted. */
export async function buildScratchContainer(store: Store, name = "scratch-ctr"): Promise<WorkingContainer> {
  await store.buildah(["from", "--name", name, "scratch"]);
  const mountPoint = await store.buildah(["mount", name]);
  await writeScratchContent(mountPoint);
  await store.buildah(["config", "--cmd", '["/bin/run"]', "--env", "FROM=scratch", name]);
  return { name, id: await containerId(store, name), mountPoint };
}

/** `skopeo copy` (quiet, policy-free), e.g. skopeoCopy(store.containersStorageRef(img), "oci:/x:y"). */
export async function skopeoCopy(src: string, dest: string, extra: string[] = []): Promise<void> {
  const path = /^(?:oci|dir|docker-archive|oci-archive):([^:]+)/.exec(dest)?.[1];
  if (path !== undefined) await mkdir(dirname(path), { recursive: true }); // skopeo wants the parent to exist
  await run("skopeo", ["copy", "--quiet", "--insecure-policy", ...extra, src, dest]);
}

/** `skopeo inspect` of a reference, parsed (`--raw` or `--config` in extra give the manifest or config). */
export async function skopeoInspect(ref: string, extra: string[] = []): Promise<Record<string, unknown>> {
  const { stdout } = await run("skopeo", ["inspect", ...extra, ref]);
  return JSON.parse(stdout) as Record<string, unknown>;
}
