// What `podman commit` takes from a container's libpod record into the image config (libpod's
// container_commit.go, podman 4.3; see shared/docs/rootless-and-podman.md §6-7): Entrypoint, Cmd,
// Env, ExposedPorts, Labels, User, WorkingDir and (anonymous or, asked, all) Volumes. StopSignal and
// healthcheck stay the image's: podman does not take the container's.
import type { RuntimeConfig } from "../config-changes.js";
import type { LibpodContainerConfig } from "./container-record.js";

export interface PodmanCommitInput {
  container: LibpodContainerConfig;
  /** Names of the volumes podman made for anonymous mounts. */
  anonymousVolumes: ReadonlySet<string>;
  /** Every volume name the database knows. */
  volumes: ReadonlySet<string>;
  /** --include-volumes: every volume the user gave, not only anonymous ones. */
  includeVolumes: boolean;
  warn: (message: string) => void;
}

/** Applies the container's record to `config` (modified in place), in podman's order. */
export function applyPodmanContainer(config: RuntimeConfig, input: PodmanCommitInput): void {
  const { container: c } = input;
  for (const [k, v] of Object.entries(c.labels ?? {})) (config.Labels ??= {})[k] = v;
  if (c.user) config.User = c.user;
  for (const dest of committedVolumes(input)) (config.Volumes ??= {})[dest] = {};
  setOrDelete(config, "WorkingDir", c.spec?.process?.cwd || undefined);
  for (const port of exposedPorts(c)) (config.ExposedPorts ??= {})[port] = {};
  // podman stores the effective command and entrypoint (the image's when none was given).
  setOrDelete(config, "Cmd", c.command?.length ? [...c.command] : undefined);
  setOrDelete(config, "Entrypoint", c.entrypoint?.length ? [...c.entrypoint] : undefined);
  for (const entry of c.spec?.process?.env ?? []) {
    const eq = entry.indexOf("=");
    if (eq <= 0) continue; // podman writes only KEY=VALUE entries into the spec
    replaceEnv(config, entry.slice(0, eq), entry);
  }
  // podman commit writes OCI by default, which has no healthcheck: a Docker-format image's is dropped.
  delete config.Healthcheck;
  sortKeys(config, "Labels");
  sortKeys(config, "ExposedPorts");
  sortKeys(config, "Volumes");
}

/** "PORT/PROTO" for each port mapping and exposed port. */
function exposedPorts(c: LibpodContainerConfig): string[] {
  const out: string[] = [];
  for (const m of c.newPortMappings ?? []) for (const p of protocols(m.protocol)) out.push(`${m.container_port}/${p}`);
  for (const m of c.portMappings ?? []) for (const p of protocols(m.protocol)) out.push(`${m.containerPort}/${p}`);
  for (const [port, protos] of Object.entries(c.exposedPorts ?? {})) for (const p of protos ?? []) for (const q of protocols(p)) out.push(`${port}/${q}`);
  return out;
}

/** podman keeps "tcp,udp" for a port given both; an empty protocol means tcp. */
function protocols(text: string | undefined): string[] {
  const list = (text ?? "").split(",").map((p) => p.trim().toLowerCase()).filter((p) => p !== "");
  return list.length ? list : ["tcp"];
}

function committedVolumes(input: PodmanCommitInput): string[] {
  const { container: c } = input;
  const user = (c.userVolumes ?? []).filter((v) => v !== "");
  if (input.includeVolumes) return user;
  const out: string[] = [];
  for (const v of c.namedVolumes ?? []) {
    if (!user.includes(v.dest)) continue;
    if (!input.volumes.has(v.volumeName)) {
      input.warn(`container ${c.id}: its volume ${v.volumeName} (${v.dest}) has been removed; podman commit would refuse it, imgcopy leaves it out`);
      continue;
    }
    if (input.anonymousVolumes.has(v.volumeName)) out.push(v.dest);
  }
  return out;
}

/** Removes every KEY= entry and appends the new one, as podman (buildah's SetEnv) does. */
function replaceEnv(config: RuntimeConfig, key: string, entry: string): void {
  config.Env = [...(config.Env ?? []).filter((e) => !e.startsWith(`${key}=`)), entry];
}

function setOrDelete<K extends "WorkingDir" | "Cmd" | "Entrypoint">(config: RuntimeConfig, key: K, value: RuntimeConfig[K] | undefined): void {
  if (value === undefined) delete config[key];
  else config[key] = value;
}

/** Go writes map keys sorted; podman's config has them so (JavaScript still puts integer-like keys such as "7000" first). */
function sortKeys(config: RuntimeConfig, key: "Labels" | "ExposedPorts" | "Volumes"): void {
  const map = config[key];
  if (!map) return;
  config[key] = Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as never;
}
