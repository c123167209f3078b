// Where a containers/storage store is: the reference's bracket, then the SystemContext (CLI flags),
// then $STORAGE_DRIVER and storage.conf, then the defaults; the driver is detected when unnamed.
// Rootless (an unprivileged user, or root inside that user's namespace) resolves the user's paths
// with the user's host uid and HOME, so the same store is found outside and inside the namespace.
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { NotFoundError, UnsupportedError, describeFsError } from "../../../src/errors.js";
import type { SystemContext } from "../../../src/types.js";
import { isRootlessProcess, rootlessUid, userNamespaceNeeded } from "../../../src/userns/index.js";
import type { StorageDriver, StoreLocation } from "./record-types.js";
import { loadStorageConf, type StorageConf } from "./storage-conf.js";

/** A store as the reference's `[DRIVER@GRAPHROOT+RUNROOT:OPTIONS]` names it; every part optional. */
export interface StoreSpec {
  driver?: string;
  graphRoot?: string;
  runRoot?: string;
  options?: string[];
}

const SUPPORTED: readonly StorageDriver[] = ["overlay", "vfs"];
/**
 * containers/storage's driver priority when none is configured (drivers.priority): the first with a
 * directory under the graph root is the store's. vfs is last: a rootless buildah/podman without
 * storage.conf whose overlay probe fails makes a vfs store (seen with buildah 1.28 and podman 4.3).
 */
const DETECT_ORDER = ["overlay", "aufs", "btrfs", "zfs", "vfs"] as const;

/** "vfs@/var/lib/containers/storage": how errors name a store. */
export function describeStore(location: StoreLocation): string {
  return `${location.driver}@${location.graphRoot}`;
}

/** Whether the user's (rootless) store settings apply: not root, or root inside the user's namespace. */
export function isRootless(env: NodeJS.ProcessEnv = process.env): boolean {
  return isRootlessProcess(env);
}

export interface LocateOptions {
  /**
   * Resolve only (to decide about the user namespace before entering it). Without it, an
   * unprivileged process outside its namespace is refused: it would meet files it cannot read and
   * owners in host terms.
   */
  outsideNamespace?: boolean;
}

/** Resolves every part of a store's location and checks that its graph root exists. */
export async function locateStore(spec: StoreSpec, ctx: SystemContext, options: LocateOptions = {}): Promise<StoreLocation> {
  const env = ctx.env ?? process.env;
  const warn = ctx.warn ?? (() => {});
  const rootless = isRootless(env);
  const loaded = await loadStorageConf(env, rootless, warn);
  const conf: StorageConf | undefined = loaded?.conf;
  const fromSystem = loaded?.fromSystem ?? false;
  const expand = (p: string | undefined): string | undefined => (p === undefined ? undefined : expandEnv(p, env));

  const confGraphRoot = fromSystem ? expand(conf?.rootlessStoragePath) : expand(conf?.graphRoot);
  const graphRoot = resolve(spec.graphRoot || ctx.storageRoot || confGraphRoot || defaultGraphRoot(env, rootless));
  const confRunRoot = fromSystem ? undefined : expand(conf?.runRoot);
  const runRoot = resolve(spec.runRoot || ctx.storageRunRoot || confRunRoot || defaultRunRoot(env, rootless));

  const named = spec.driver || ctx.storageDriver || env.STORAGE_DRIVER || conf?.driver;
  const namedDriver = named ? checkDriverName(named, graphRoot) : undefined;
  await checkGraphRoot(graphRoot);
  if (!options.outsideNamespace && userNamespaceNeeded(env)) throw outsideNamespaceError(graphRoot);
  const driver = namedDriver ?? (await detectDriver(graphRoot));

  const additional: string[] = [];
  const imageStore = expand(conf?.imageStore);
  if (imageStore) additional.push(resolve(imageStore));
  for (const s of conf?.additionalImageStores ?? []) additional.push(resolve(expandEnv(s, env)));
  for (const opt of spec.options ?? []) {
    const m = /^(?:[a-z0-9]+\.)?(?:additionalimagestore|imagestore)=(.+)$/.exec(opt);
    if (m) additional.push(resolve(m[1]!));
  }
  return {
    driver,
    graphRoot,
    runRoot,
    additionalImageStores: [...new Set(additional)].filter((p) => p !== graphRoot),
    transientStore: conf?.transientStore ?? false,
  };
}

function outsideNamespaceError(graphRoot: string): UnsupportedError {
  return new UnsupportedError(
    `containers/storage store ${graphRoot} must be read inside the user namespace of uid ${rootlessUid()} (where its files are readable and owners are container ids): ` +
      "the imgcopy command enters it by itself; a library caller runs under runInUserNamespace() or `buildah unshare`",
  );
}

function checkDriverName(name: string, graphRoot: string): StorageDriver {
  const driver = name === "overlay2" ? "overlay" : name;
  if ((SUPPORTED as readonly string[]).includes(driver)) return driver as StorageDriver;
  throw new UnsupportedError(
    `container-copy: storage driver "${name}" of store ${graphRoot} is not supported (supported: ${SUPPORTED.join(", ")})`,
  );
}

async function checkGraphRoot(graphRoot: string): Promise<void> {
  try {
    const st = await stat(graphRoot);
    if (!st.isDirectory()) throw new NotFoundError(`containers/storage graph root ${graphRoot} is not a directory`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new NotFoundError(`containers/storage graph root ${graphRoot} does not exist`, { cause: err });
    }
    throw describeFsError(err, `containers/storage graph root ${graphRoot}`);
  }
}

/** The first driver (in containers/storage's order) with a directory under the graph root. */
async function detectDriver(graphRoot: string): Promise<StorageDriver> {
  for (const d of DETECT_ORDER) {
    if (await isDirectory(join(graphRoot, d))) return checkDriverName(d, graphRoot);
  }
  // Like containers/storage on a fresh store: overlay.
  return "overlay";
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export function defaultGraphRoot(env: NodeJS.ProcessEnv, rootless: boolean): string {
  if (!rootless) return "/var/lib/containers/storage";
  const dataHome = env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local/share");
  return join(dataHome, "containers/storage");
}

export function defaultRunRoot(env: NodeJS.ProcessEnv, rootless: boolean): string {
  if (!rootless) return "/run/containers/storage";
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "containers");
  // containers/storage without XDG_RUNTIME_DIR: $TMPDIR (default /tmp)/containers-user-UID. buildah
  // sets TMPDIR=/var/tmp for itself, so its run root is under /var/tmp (seen); only transient stores
  // keep records there.
  return join(env.TMPDIR || "/tmp", `containers-user-${rootlessUid(env)}`, "containers");
}

/** $VAR and ${VAR} as containers/storage expands them in storage.conf paths ($UID included). */
function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  const lookup = (name: string): string => {
    if (name === "UID" && env.UID === undefined) return String(rootlessUid(env));
    if (name === "HOME" && !env.HOME) return homedir();
    return env[name] ?? "";
  };
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, a: string | undefined, b: string | undefined) =>
    lookup((a ?? b)!),
  );
}
