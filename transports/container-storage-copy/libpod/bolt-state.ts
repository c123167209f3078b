// Podman 4's libpod/bolt_state.db read into a LibpodState: `runtime-config`, every `ctr/<id>/config`
// and the volumes' `isAnon`, read once from a checked BoltDB file.
import { CorruptInputError } from "../../../src/errors.js";
import { BoltDb, type BoltBucket } from "./bolt.js";
import { isAnonymousVolume, parseContainerConfig, type LibpodContainerConfig, type LibpodState } from "./container-record.js";

export async function readBoltState(path: string): Promise<LibpodState> {
  const db = await BoltDb.open(path);
  const root = db.root();
  const runtimeBucket = root.bucket("runtime-config");
  if (!runtimeBucket) throw new CorruptInputError(`${path}: libpod database without a runtime-config bucket`);
  const text = (b: BoltBucket, key: string): string | undefined => b.get(key)?.toString("utf8");
  const runtime = {
    graphRoot: text(runtimeBucket, "graph-root"),
    runRoot: text(runtimeBucket, "run-root"),
    graphDriver: text(runtimeBucket, "graph-driver-name"),
    staticDir: text(runtimeBucket, "static-dir"),
  };

  const containers = new Map<string, LibpodContainerConfig>();
  const ctrs = root.bucket("ctr");
  for (const e of ctrs?.entries() ?? []) {
    if (!e.isBucket) continue;
    const id = e.key.toString("utf8");
    const config = db.bucketFrom(e.value).get("config");
    if (!config) throw new CorruptInputError(`${path}: container ${id} has no config`);
    containers.set(id, parseContainerConfig(config.toString("utf8"), `${path}: container ${id}`));
  }

  const volumes = new Set<string>();
  const anonymousVolumes = new Set<string>();
  for (const e of root.bucket("vol")?.entries() ?? []) {
    if (!e.isBucket) continue;
    const name = e.key.toString("utf8");
    volumes.add(name);
    const config = db.bucketFrom(e.value).get("config");
    if (config && isAnonymousVolume(config.toString("utf8"))) anonymousVolumes.add(name);
  }
  return { path, backend: "boltdb", runtime, containers, volumes, anonymousVolumes };
}
