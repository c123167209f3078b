// libpod's record of a container (its ContainerConfig JSON, the fields podman commit reads) and
// of the database it came from, as the bolt and SQLite readers hand them over.
import { CorruptInputError } from "../../../src/errors.js";

/** A port mapping as podman >= 4 stores it (`newPortMappings`). */
export interface PortMapping {
  container_port: number;
  host_port?: number;
  range?: number;
  /** "tcp", "udp", "sctp", or several joined by commas. */
  protocol?: string;
}

/** A port mapping as podman < 4 stored it (`portMappings`, CNI style). */
export interface LegacyPortMapping {
  containerPort: number;
  protocol?: string;
}

export interface NamedVolumeMount {
  volumeName: string;
  dest: string;
}

/** The fields of libpod's ContainerConfig that podman commit uses (others are kept but not typed). */
export interface LibpodContainerConfig {
  id: string;
  name?: string;
  spec?: { process?: { env?: string[] | null; cwd?: string } | null } | null;
  user?: string;
  entrypoint?: string[] | null;
  command?: string[] | null;
  labels?: Record<string, string> | null;
  exposedPorts?: Record<string, string[]> | null;
  newPortMappings?: PortMapping[] | null;
  portMappings?: LegacyPortMapping[] | null;
  userVolumes?: string[] | null;
  namedVolumes?: NamedVolumeMount[] | null;
  rootfsImageID?: string;
  rootfsImageName?: string;
  [key: string]: unknown;
}

/** What libpod's database says about the store it belongs to (bolt `runtime-config`, SQLite `DBConfig`). */
export interface LibpodRuntimeConfig {
  graphRoot?: string;
  runRoot?: string;
  graphDriver?: string;
  staticDir?: string;
}

/** Everything read from one libpod database. */
export interface LibpodState {
  /** The file read, for messages. */
  path: string;
  backend: "boltdb" | "sqlite";
  runtime: LibpodRuntimeConfig;
  /** Containers by id. */
  containers: Map<string, LibpodContainerConfig>;
  /** Names of the volumes podman made anonymously (podman commit keeps only those by default). */
  anonymousVolumes: Set<string>;
  /** Every volume name known, to tell a removed volume from a named one. */
  volumes: Set<string>;
}

export function parseContainerConfig(json: string, what: string): LibpodContainerConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new CorruptInputError(`${what}: container config is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || typeof (parsed as { id?: unknown }).id !== "string") {
    throw new CorruptInputError(`${what}: container config is not a JSON object with an id`);
  }
  return parsed as LibpodContainerConfig;
}

/** Whether a volume config JSON says podman made the volume for an anonymous mount. */
export function isAnonymousVolume(json: string): boolean {
  try {
    return (JSON.parse(json) as { isAnon?: unknown }).isAnon === true;
  } catch {
    // An unreadable volume record counts as not anonymous: its volume is left out of the image.
    return false;
  }
}
