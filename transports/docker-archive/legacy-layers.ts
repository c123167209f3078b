// The pre-manifest.json metadata that docker load and older tools still read: one "<id>/" folder
// per layer (VERSION, json, layer.tar link) and `repositories`. IDs are computed as containers/image
// computes them, so our archives carry the same layer IDs as skopeo's.
import { createHash } from "node:crypto";
import { CorruptInputError } from "../../src/errors.js";
import type { Digest } from "../../src/types.js";
import type { NamedTagged } from "./docker-reference.js";

export interface LegacyLayer {
  id: string;
  /** The "<id>/json" file. */
  json: Buffer;
  /** The layer's digest, whose "<hex>.tar" the "<id>/layer.tar" link points at. */
  digest: Digest;
}

/** Keys of the image config copied into the top layer's json. */
const TOP_LAYER_KEYS = ["architecture", "config", "container", "container_config", "created", "docker_version", "os"];

export function legacyLayers(layerDigests: readonly Digest[], configBytes: Uint8Array): LegacyLayer[] {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(Buffer.from(configBytes).toString("utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new CorruptInputError(`image config is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const result: LegacyLayer[] = [];
  let chainId = "";
  let parent = "";
  for (const [i, digest] of layerDigests.entries()) {
    const layerConfig: Record<string, unknown> = {};
    if (parent !== "") layerConfig.parent = parent;
    if (i === layerDigests.length - 1) {
      for (const key of TOP_LAYER_KEYS) layerConfig[key] = config[key] ?? null;
    }
    chainId = chainId === "" ? digest : `sha256:${sha256Hex(`${chainId} ${digest}`)}`;
    const id = sha256Hex(goJson({ ...layerConfig, layer_id: chainId }));
    result.push({ id, json: Buffer.from(goJson({ ...layerConfig, id })), digest });
    parent = id;
  }
  return result;
}

/** `repositories`: {"name": {"tag": "<top layer id>"}}; {} without layers or tags. */
export function repositoriesJson(tags: readonly NamedTagged[], topLayerId: string | undefined): Buffer {
  const repos = new Map<string, Map<string, string>>();
  if (topLayerId !== undefined) {
    for (const t of tags) {
      const byTag = repos.get(t.name) ?? new Map<string, string>();
      byTag.set(t.tag, topLayerId);
      repos.set(t.name, byTag);
    }
  }
  const inner = new Map([...repos].map(([name, byTag]) => [name, goJson(new Map([...byTag].map(([k, v]) => [k, JSON.stringify(v)])))]));
  return Buffer.from(goJson(inner));
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** JSON of a map as Go's encoding/json writes it: keys sorted bytewise, HTML-significant characters escaped. */
function goJson(value: Record<string, unknown> | Map<string, string>): string {
  // A Map holds values already encoded; a record's values are encoded here (nested objects keep their order, like Go's RawMessage).
  const pairs: Array<[string, string]> =
    value instanceof Map ? [...value] : Object.entries(value).map(([k, v]) => [k, JSON.stringify(v) ?? "null"]);
  const body = pairs
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
    .join(",");
  return `{${body}}`.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
