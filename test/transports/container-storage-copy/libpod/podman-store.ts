// Real podman containers for the libpod tests: a small base image built with buildah from scratch
// (no network) in a temp store, and containers made on it by the real `podman create`, which
// writes libpod/bolt_state.db (podman 4) at the graph root.
import { mkdir, writeFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { createStore, type Store, type StorageDriver } from "../../../helpers/buildah-store.js";

export const BASE_IMAGE = "localhost/podbase:1";

/** The base image's config, set with `buildah config`. */
export const BASE_IMAGE_CONFIG = {
  Env: ["PATH=/usr/bin:/bin", "APP=base"],
  Cmd: ["--serve"],
  WorkingDir: "/srv",
  Labels: { stage: "base" },
  ExposedPorts: { "7000": {} },
  Volumes: { "/data": {} },
  StopSignal: "SIGQUIT",
};

/** The options of `podman create` the issue names (and a port mapping with a range). */
export const FULL_OPTIONS = [
  "-e", "FOO=1", "-e", "APP=ctr", "-w", "/etc", "-u", "1000:1000", "--label", "app=x", "--expose", "8080",
  "-p", "9000-9001:9000-9001/udp", "--stop-signal", "SIGUSR1", "--entrypoint", '["/bin/sh","-c"]',
];

/** Volumes of every kind: anonymous, named, a host bind mount (and the image's /data). */
export const VOLUME_OPTIONS = ["-v", "/anon", "-v", "named-vol:/named", "-v", "/tmp:/hostbind"];

/** A store with the base image in it. */
export async function createPodmanStore(driver: StorageDriver): Promise<Store> {
  const store = await createStore(driver);
  try {
    const ctr = await store.buildah(["from", "--name", "podbase-work", "scratch"]);
    const root = await store.buildah(["mount", ctr]);
    await mkdir(join(root, "etc"), { recursive: true });
    await mkdir(join(root, "srv/app"), { recursive: true });
    await mkdir(join(root, "usr/bin"), { recursive: true });
    await writeFile(join(root, "etc/hostname.base"), "base\n");
    await writeFile(join(root, "srv/app/run.sh"), "#!/bin/sh\necho run\n", { mode: 0o755 });
    await symlink("usr/bin", join(root, "bin"));
    const c = BASE_IMAGE_CONFIG;
    const args = ["config", "--cmd", JSON.stringify(c.Cmd), "--workingdir", c.WorkingDir, "--stop-signal", c.StopSignal, "--port", "7000", "--volume", "/data"];
    for (const e of c.Env) args.push("--env", e);
    for (const [k, v] of Object.entries(c.Labels)) args.push("--label", `${k}=${v}`);
    await store.buildah([...args, ctr]);
    await store.buildah(["commit", "--quiet", "--rm", ctr, BASE_IMAGE]);
    return store;
  } catch (err) {
    await store.cleanup();
    throw err;
  }
}

/** `podman create --name NAME OPTIONS... IMAGE ARGS...`; resolves with the container id. */
export async function podmanCreate(store: Store, name: string, options: string[], args: string[] = []): Promise<string> {
  return store.podman(["create", "--name", name, ...options, BASE_IMAGE, ...args]);
}

export function boltPath(store: Store): string {
  return join(store.graphRoot, "libpod", "bolt_state.db");
}
