// The image config of a container turned into an image: its base (buildah.json's ociv1, else its
// image's config, else a minimal one), with buildah commit's additions: rootfs.diff_ids, one new
// history entry, created time, author and Dockerfile-style changes. A podman container's own
// settings (its libpod record) are applied before the changes, as podman commit does.
import { CorruptInputError, UsageError } from "../../src/errors.js";
import type { CommitOptions, SystemContext } from "../../src/types.js";
import { applyConfigChanges, type RuntimeConfig } from "./config-changes.js";
import { applyPodmanContainer, type PodmanCommitInput } from "./libpod/podman-commit.js";
import type { BuildahState, HistoryEntry } from "./store/big-data.js";

/** An image config (OCI image spec); unknown keys are kept as they are. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  config?: RuntimeConfig;
  rootfs?: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  [key: string]: unknown;
}

/** buildah's created_by when nothing else is said. */
export const DEFAULT_CREATED_BY = "/bin/sh";

const GOARCH: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64", mips: "mips", mipsel: "mipsle" };

/** Node's process.arch spelled as Go's GOARCH (what image configs use). */
export function goArch(nodeArch: string = process.arch): string {
  return GOARCH[nodeArch] ?? nodeArch;
}

/** The config of a container made from scratch without buildah.json. */
export function minimalConfig(): ImageConfig {
  return { architecture: goArch(), os: "linux", config: {} };
}

export function parseImageConfig(bytes: Uint8Array, what: string): ImageConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new CorruptInputError(`${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new CorruptInputError(`${what}: expected a JSON object`);
  return parsed as ImageConfig;
}

/** The new image's created time: commit.timestamp, else $SOURCE_DATE_EPOCH, else now. */
export function commitTimestamp(ctx: SystemContext, now: () => Date = () => new Date()): Date {
  const given = ctx.commit?.timestamp;
  if (given !== undefined) {
    if (Number.isNaN(given.getTime())) throw new UsageError("commit timestamp is not a valid date");
    return given;
  }
  const epoch = (ctx.env ?? process.env).SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== "") {
    if (!/^\d+$/.test(epoch)) throw new UsageError(`SOURCE_DATE_EPOCH=${JSON.stringify(epoch)} is not a number of seconds`);
    return new Date(Number(epoch) * 1000);
  }
  return now();
}

/** RFC 3339 in UTC, without a fraction when there is none ("2020-01-01T00:00:00Z"). */
export function formatTimestamp(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, "Z");
}

export interface CommitConfigInput {
  base: ImageConfig;
  /** buildah.json of the container, when it is a buildah working container. */
  buildah?: BuildahState;
  /** The container's libpod record, when podman made it. */
  podman?: Omit<PodmanCommitInput, "includeVolumes" | "warn">;
  /** Every layer's DiffID, base first (placeholders for layers not yet diffed). */
  diffIds: string[];
  commit: CommitOptions | undefined;
  created: Date;
  warn: (message: string) => void;
}

/** What buildah commit writes for a container: its base config plus the commit's additions. */
export function buildCommitConfig(input: CommitConfigInput): ImageConfig {
  const { base, buildah, commit, warn } = input;
  const created = formatTimestamp(input.created);
  const author = commit?.author ?? base.author;
  const runtime: RuntimeConfig = structuredClone(base.config ?? {});
  if (input.podman) applyPodmanContainer(runtime, { ...input.podman, includeVolumes: commit?.includeVolumes === true, warn });
  applyConfigChanges(runtime, commit?.changes ?? [], warn);

  // Docker-only descriptions of the container the base was built in, not of this one.
  const { created: _c, author: _a, architecture, os, config: _cfg, rootfs: _r, history: baseHistory, container: _ct, container_config: _cc, docker_version: _dv, ...rest } =
    structuredClone(base);
  const out: ImageConfig = { created };
  if (author) out.author = author;
  out.architecture = architecture ?? goArch();
  out.os = os ?? "linux";
  Object.assign(out, rest);
  out.config = runtime;
  out.rootfs = { type: "layers", diff_ids: [...input.diffIds] };
  if (!commit?.omitHistory) {
    const entry: HistoryEntry = { created, created_by: commit?.createdBy ?? buildah?.["created-by"] ?? DEFAULT_CREATED_BY };
    if (author) entry.author = author;
    const comment = commit?.message ?? buildah?.["history-comment"] ?? (buildah?.image ? `FROM ${buildah.image}` : undefined);
    if (comment) entry.comment = comment;
    out.history = [...(baseHistory ?? []), ...(buildah?.PrependedEmptyLayers ?? []), entry, ...(buildah?.AppendedEmptyLayers ?? [])];
    // A base without history (imported images) cannot be made consistent; only a broken one is worth a warning.
    if (baseHistory?.length) warnOnHistoryMismatch(out.history, input.diffIds.length, warn);
  }
  return out;
}

/**
 * An image's own config with only what the user asked changed (author, changes, timestamp);
 * undefined when nothing was asked, so that the stored bytes are served unchanged.
 */
export function buildImageConfig(base: ImageConfig, commit: CommitOptions | undefined, warn: (m: string) => void): ImageConfig | undefined {
  if (!commit?.changes?.length && commit?.author === undefined && commit?.timestamp === undefined) return undefined;
  const out = structuredClone(base);
  if (commit.timestamp !== undefined) out.created = formatTimestamp(commit.timestamp);
  if (commit.author !== undefined) out.author = commit.author;
  if (commit.changes?.length) {
    out.config ??= {};
    applyConfigChanges(out.config, commit.changes, warn);
  }
  return out;
}

function warnOnHistoryMismatch(history: HistoryEntry[], layers: number, warn: (m: string) => void): void {
  const nonEmpty = history.filter((h) => !h.empty_layer).length;
  if (nonEmpty !== layers) {
    warn(`image history has ${nonEmpty} entries for layers but the image has ${layers} layers (the base image's history was inconsistent)`);
  }
}
