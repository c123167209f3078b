// The image config blob (same JSON for OCI and Docker): reading what imgcopy needs, rewriting diff_ids.
import type { Digest } from "../types.js";
import { parseJsonObject } from "./parse-manifest.js";
import { FieldChecker, isObject, type JsonObject } from "./validate-fields.js";

/** Configs larger than this are refused rather than held in memory. */
export const MAX_CONFIG_SIZE = 64 * 1024 * 1024;

export interface ImageConfig {
  /** The whole config as parsed; unknown fields are kept. */
  json: JsonObject;
  /** rootfs.diff_ids: the uncompressed digest of each layer, in manifest order. */
  diffIds: Digest[];
  architecture: string | undefined;
  os: string | undefined;
  variant: string | undefined;
  created: string | undefined;
  /** config.config (the runtime settings: Env, Labels, Cmd, ...), when present. */
  runtime: JsonObject | undefined;
}

/** Parses and validates an image config; CorruptInputError names `what` and the field. */
export function parseImageConfig(bytes: Uint8Array, what: string): ImageConfig {
  const json = parseJsonObject(bytes, what);
  const check = new FieldChecker(what);
  const rootfs = check.object(json.rootfs, "rootfs");
  const diffIds = check.array(rootfs.diff_ids ?? [], "rootfs.diff_ids").map((d, i) => check.digest(d, `rootfs.diff_ids[${i}]`));
  for (const key of ["architecture", "os", "variant", "created"] as const) check.optionalString(json[key], key);
  if (json.config !== undefined && json.config !== null) check.object(json.config, "config");
  return {
    json,
    diffIds,
    architecture: json.architecture as string | undefined,
    os: json.os as string | undefined,
    variant: json.variant as string | undefined,
    created: json.created as string | undefined,
    runtime: isObject(json.config) ? json.config : undefined,
  };
}

/** The config bytes with rootfs.diff_ids replaced (everything else kept, compact JSON). */
export function configWithDiffIds(config: ImageConfig, diffIds: Digest[]): Uint8Array {
  const rootfs = { ...(config.json.rootfs as JsonObject), diff_ids: diffIds };
  return Buffer.from(JSON.stringify({ ...config.json, rootfs }), "utf8");
}
