// The two containers.conf keys that say where podman keeps its database: [engine] static_dir and
// database_backend (podman >= 4.8), read in containers.conf(5)'s order, later files winning.
import { readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseToml } from "../store/storage-conf.js";

export interface EngineConf {
  staticDir?: string;
  /** "boltdb", "sqlite", or undefined (podman: bolt when its file exists, else SQLite). */
  databaseBackend?: string;
}

async function dropIns(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith(".conf")).sort().map((f) => join(dir, f));
  } catch {
    // No drop-in folder: nothing to add.
    return [];
  }
}

/** containers.conf files in the order podman reads them (CONTAINERS_CONF alone replaces them). */
export async function containersConfFiles(env: NodeJS.ProcessEnv, rootless: boolean): Promise<string[]> {
  const override = env.CONTAINERS_CONF_OVERRIDE ? [env.CONTAINERS_CONF_OVERRIDE] : [];
  if (env.CONTAINERS_CONF) return [env.CONTAINERS_CONF, ...override];
  const files: string[] = [];
  for (const dir of ["/usr/share/containers", "/etc/containers"]) files.push(join(dir, "containers.conf"), ...(await dropIns(join(dir, "containers.conf.d"))));
  if (rootless) {
    const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
    files.push(join(config, "containers/containers.conf"), ...(await dropIns(join(config, "containers/containers.conf.d"))));
  }
  return [...files, ...override];
}

/** The [engine] keys in effect; a file that cannot be read or parsed is skipped with a warning. */
export async function readEngineConf(env: NodeJS.ProcessEnv, rootless: boolean, warn: (m: string) => void): Promise<EngineConf> {
  const out: EngineConf = {};
  for (const path of await containersConfFiles(env, rootless)) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      continue; // most of the candidates do not exist
    }
    let engine;
    try {
      engine = parseToml(text).get("engine");
    } catch (err) {
      warn(`${path}: not read (${(err as Error).message}); its static_dir and database_backend are not used`);
      continue;
    }
    const staticDir = engine?.get("static_dir");
    if (typeof staticDir === "string" && staticDir !== "") out.staticDir = staticDir;
    const backend = engine?.get("database_backend");
    if (typeof backend === "string") out.databaseBackend = backend === "" ? undefined : backend;
  }
  return out;
}
