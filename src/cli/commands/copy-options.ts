// The copy command's flags, spelled as skopeo copy and buildah commit spell them, and what they
// become: engine options and the destination's SystemContext.
import type { Argv, Options } from "yargs";
import { UsageError } from "../../errors.js";
import type { CommitOptions, SystemContext } from "../../types.js";
import type { CopyOptions } from "../../copy/copy-options.js";
import { PROGRESS_MODES, nonNegative, type GlobalArgs, type ProgressMode } from "../global-options.js";
import { COPY_REGISTRY_OPTIONS, sideArgs, withRegistryContext, type RetryArgs } from "./registry-options.js";

export interface CopyArgs extends GlobalArgs, RetryArgs {
  src: string;
  dest: string;
  quiet: boolean;
  progress: ProgressMode;
  format?: "oci" | "v2s2";
  destCompress?: boolean;
  destDecompress?: boolean;
  destCompressFormat?: string;
  destCompressLevel?: number;
  destOciAcceptUncompressedLayers: boolean;
  preserveDigests: boolean;
  verifyDiffids: boolean;
  removeSignatures: boolean;
  additionalTag?: string[];
  all: boolean;
  digestfile?: string;
  createdBy?: string;
  author?: string;
  message?: string;
  omitHistory: boolean;
  timestamp?: number;
  annotation?: string[];
  change?: string[];
  includeVolumes: boolean;
  authfile?: string;
  imageParallelCopies?: number;
}

// The instructions the container-copy transport applies (it warns about and skips ONBUILD: OCI configs have no such field).
const CHANGE_INSTRUCTIONS = "CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR";

const PROGRESS_OPTIONS = {
  quiet: { alias: "q", type: "boolean", default: false, describe: "print no progress" },
  progress: {
    choices: PROGRESS_MODES,
    default: "auto",
    describe: "progress on stderr: bars on a terminal, lines otherwise (auto), JSON lines, or none",
  },
} as const satisfies Record<string, Options>;

const TRANSFER_OPTIONS = {
  format: { alias: "f", choices: ["oci", "v2s2"], describe: "manifest type of the destination image" },
  "dest-compress": { type: "boolean", describe: "compress layers written to the destination" },
  "dest-decompress": { type: "boolean", describe: "decompress layers written to the destination" },
  "dest-compress-format": { type: "string", describe: "compression for the destination: gzip or zstd" },
  "dest-compress-level": { type: "number", describe: "compression level for the destination" },
  "dest-oci-accept-uncompressed-layers": { type: "boolean", default: false, describe: "oci: keep uncompressed layers uncompressed" },
  "preserve-digests": { type: "boolean", default: false, describe: "fail rather than change any digest" },
  "remove-signatures": { type: "boolean", default: false, describe: "do not copy signatures" },
  "verify-diffids": { type: "boolean", default: false, describe: "also decompress compressed layers copied unchanged, to check their DiffIDs" },
  "additional-tag": { type: "string", array: true, describe: "docker-archive: extra NAME:TAG; repeatable" },
  all: { alias: "a", type: "boolean", default: false, describe: "copy every image of a list or index" },
  digestfile: { type: "string", describe: "write the manifest digest to this file" },
} as const satisfies Record<string, Options>;

/** The flags that only a container-copy/containers-storage source applies (buildah commit's). */
export const COMMIT_OPTIONS = {
  "created-by": { type: "string", describe: "the history entry's created_by" },
  author: { type: "string", describe: "the image's author" },
  message: { alias: "m", type: "string", describe: "the history entry's comment" },
  "omit-history": { type: "boolean", default: false, describe: "write no history" },
  timestamp: { type: "number", describe: "created time, seconds since the epoch (default: SOURCE_DATE_EPOCH or now)" },
  annotation: { type: "string", array: true, describe: "manifest annotation KEY=VALUE (OCI manifests only); repeatable" },
  change: { alias: "c", type: "string", array: true, describe: `Dockerfile instruction for the config (${CHANGE_INSTRUCTIONS}); repeatable` },
  "include-volumes": { type: "boolean", default: false, describe: "podman containers: every volume given to the container becomes an image volume" },
} as const satisfies Record<string, Options>;

/** Every flag of the copy command (besides the global ones), for the parser, the unknown-option check and completion. */
export const COPY_OPTIONS = { ...TRANSFER_OPTIONS, ...COMMIT_OPTIONS, ...COPY_REGISTRY_OPTIONS, ...PROGRESS_OPTIONS } as const satisfies Record<string, Options>;

export function addCopyOptions(y: Argv<GlobalArgs>): Argv<CopyArgs> {
  return y
    .positional("src", { type: "string", describe: "source image, TRANSPORT:DETAILS (e.g. oci:./in:latest)" })
    .positional("dest", { type: "string", describe: "destination image, TRANSPORT:DETAILS (e.g. dir:./out)" })
    .options(COPY_OPTIONS)
    .group(Object.keys(TRANSFER_OPTIONS), "Copy:")
    .group(Object.keys(COMMIT_OPTIONS), "Commit (container-copy):")
    .group(Object.keys(COPY_REGISTRY_OPTIONS), "Registry (docker://):")
    .group(Object.keys(PROGRESS_OPTIONS), "Progress:")
    .conflicts("dest-compress", "dest-decompress") as unknown as Argv<CopyArgs>; // yargs infers kebab and camel keys both
}

/** The engine's options that flags set; context, progress and signal come from the caller. */
type EngineFlagOptions = Omit<CopyOptions, "sourceCtx" | "destCtx" | "onProgress" | "signal">;

/** The engine's options that the flags describe. */
export function engineOptionsFrom(args: CopyArgs): EngineFlagOptions {
  const out: EngineFlagOptions = {
    compress: args.destCompress === true,
    decompress: args.destDecompress === true,
    all: args.all,
    removeSignatures: args.removeSignatures,
    preserveDigests: args.preserveDigests,
  };
  if (args.verifyDiffids) out.verifyDiffIds = true;
  if (args.format !== undefined) out.format = args.format;
  if (args.imageParallelCopies !== undefined) {
    if (!Number.isInteger(args.imageParallelCopies) || args.imageParallelCopies < 1) {
      throw new UsageError("--image-parallel-copies needs a whole number of at least 1");
    }
    out.concurrency = args.imageParallelCopies;
  }
  if (args.destCompressFormat !== undefined) out.compressionFormat = args.destCompressFormat;
  if (args.destCompressLevel !== undefined) {
    if (!Number.isInteger(args.destCompressLevel)) throw new UsageError("--dest-compress-level needs a whole number");
    out.compressionLevel = args.destCompressLevel;
  }
  return out;
}

/** The source's and the destination's SystemContext: `withCopyContext`'s plus each side's registry flags. */
export function copyContexts(ctx: SystemContext, args: CopyArgs): { sourceCtx: SystemContext; destCtx: SystemContext } {
  const base = withCopyContext(ctx, args);
  const all = args as unknown as Record<string, unknown>;
  return {
    sourceCtx: withRegistryContext(base, sideArgs(all, "src"), args, "src-", args.authfile),
    destCtx: withRegistryContext(base, sideArgs(all, "dest"), args, "dest-", args.authfile),
  };
}

/** Adds the destination-side and commit flags to a SystemContext built from the global options. */
export function withCopyContext(ctx: SystemContext, args: CopyArgs): SystemContext {
  const out: SystemContext = { ...ctx };
  if (args.destOciAcceptUncompressedLayers) out.ociAcceptUncompressedLayers = true;
  if (args.additionalTag?.length) out.additionalTags = [...args.additionalTag];
  const commit = commitOptionsFrom(args);
  if (Object.keys(commit).length > 0) out.commit = commit;
  return out;
}

function commitOptionsFrom(args: CopyArgs): CommitOptions {
  const c: CommitOptions = {};
  if (args.createdBy !== undefined) c.createdBy = args.createdBy;
  if (args.author !== undefined) c.author = args.author;
  if (args.message !== undefined) c.message = args.message;
  if (args.omitHistory) c.omitHistory = true;
  if (args.timestamp !== undefined) {
    // buildah commit --timestamp takes whole seconds; a fraction would silently become another time.
    if (Number.isFinite(args.timestamp) && !Number.isInteger(args.timestamp)) {
      throw new UsageError(`--timestamp needs whole seconds since the epoch, not ${args.timestamp}`);
    }
    c.timestamp = new Date(nonNegative(args.timestamp, "--timestamp") * 1000);
  }
  if (args.annotation?.length) c.annotations = parseKeyValues(args.annotation, "--annotation");
  if (args.change?.length) c.changes = [...args.change];
  if (args.includeVolumes) c.includeVolumes = true;
  return c;
}

/** "k=v" pairs (the value may hold "="); anything else is a usage error naming the flag. */
export function parseKeyValues(pairs: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag} ${JSON.stringify(pair)}: expected KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
