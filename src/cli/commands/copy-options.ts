// The copy command's flags, spelled as skopeo copy and buildah commit spell them, and what they
// become: engine options and the destination's SystemContext.
import type { Argv } from "yargs";
import { UsageError } from "../../errors.js";
import type { CommitOptions, SystemContext } from "../../types.js";
import { nonNegative, type GlobalArgs } from "../global-options.js";

export interface CopyArgs extends GlobalArgs {
  src: string;
  dest: string;
  format?: "oci" | "v2s2";
  destCompress?: boolean;
  destDecompress?: boolean;
  destCompressFormat?: string;
  destCompressLevel?: number;
  destOciAcceptUncompressedLayers: boolean;
  preserveDigests: boolean;
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
}

export function addCopyOptions(y: Argv<GlobalArgs>): Argv<CopyArgs> {
  return y
    .positional("src", { type: "string", describe: "source image, TRANSPORT:DETAILS (e.g. oci:./in:latest)" })
    .positional("dest", { type: "string", describe: "destination image, TRANSPORT:DETAILS (e.g. dir:./out)" })
    .group(["format", "dest-compress", "dest-decompress", "dest-compress-format", "dest-compress-level",
      "dest-oci-accept-uncompressed-layers", "preserve-digests", "remove-signatures", "additional-tag", "all", "digestfile"], "Copy:")
    .option("format", { alias: "f", choices: ["oci", "v2s2"] as const, describe: "manifest type of the destination image" })
    .option("dest-compress", { type: "boolean", describe: "compress layers written to the destination" })
    .option("dest-decompress", { type: "boolean", describe: "decompress layers written to the destination" })
    .option("dest-compress-format", { type: "string", describe: "compression for the destination: gzip or zstd" })
    .option("dest-compress-level", { type: "number", describe: "compression level for the destination" })
    .option("dest-oci-accept-uncompressed-layers", { type: "boolean", default: false, describe: "oci: keep uncompressed layers uncompressed" })
    .option("preserve-digests", { type: "boolean", default: false, describe: "fail rather than change any digest" })
    .option("remove-signatures", { type: "boolean", default: false, describe: "do not copy signatures" })
    .option("additional-tag", { type: "string", array: true, describe: "docker-archive: extra NAME:TAG; repeatable" })
    .option("all", { alias: "a", type: "boolean", default: false, describe: "copy every image of a list or index" })
    .option("digestfile", { type: "string", describe: "write the manifest digest to this file" })
    .group(["created-by", "author", "message", "omit-history", "timestamp", "annotation", "change"], "Commit (container-copy):")
    .option("created-by", { type: "string", describe: "the history entry's created_by" })
    .option("author", { type: "string", describe: "the image's author" })
    .option("message", { alias: "m", type: "string", describe: "the history entry's comment" })
    .option("omit-history", { type: "boolean", default: false, describe: "write no history" })
    .option("timestamp", { type: "number", describe: "created time, seconds since the epoch (default: SOURCE_DATE_EPOCH or now)" })
    .option("annotation", { type: "string", array: true, describe: "manifest annotation KEY=VALUE; repeatable" })
    .option("change", { alias: "c", type: "string", array: true, describe: "Dockerfile instruction for the config (ENV, CMD, LABEL, ...); repeatable" })
    .conflicts("dest-compress", "dest-decompress") as unknown as Argv<CopyArgs>; // yargs infers kebab and camel keys both
}

/** The engine's options that the flags describe (context, progress and signal are added by the caller). */
export function engineOptionsFrom(args: CopyArgs): {
  format?: "oci" | "v2s2";
  compress?: boolean;
  decompress?: boolean;
  compressionFormat?: string;
  compressionLevel?: number;
  all?: boolean;
  removeSignatures?: boolean;
  preserveDigests?: boolean;
} {
  const out: ReturnType<typeof engineOptionsFrom> = {
    compress: args.destCompress === true,
    decompress: args.destDecompress === true,
    all: args.all,
    removeSignatures: args.removeSignatures,
    preserveDigests: args.preserveDigests,
  };
  if (args.format !== undefined) out.format = args.format;
  if (args.destCompressFormat !== undefined) out.compressionFormat = args.destCompressFormat;
  if (args.destCompressLevel !== undefined) {
    if (!Number.isInteger(args.destCompressLevel)) throw new UsageError("--dest-compress-level needs a whole number");
    out.compressionLevel = args.destCompressLevel;
  }
  return out;
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
  if (args.timestamp !== undefined) c.timestamp = new Date(nonNegative(args.timestamp, "--timestamp") * 1000);
  if (args.annotation?.length) c.annotations = parseKeyValues(args.annotation, "--annotation");
  if (args.change?.length) c.changes = [...args.change];
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
