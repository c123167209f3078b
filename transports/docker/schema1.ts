// Docker schema 1 manifests (v1+json, v1+prettyjws), read as containers/image reads them: converted
// to a schema 2 manifest whose config is made from the history's v1Compatibility entries (the top
// one gives the config; each gives a history line; "throwaway" ones are empty layers). Schema 1
// names no DiffIDs: the layers go to the engine as placeholders, so it computes them while copying
// and fills rootfs.diff_ids in.
import { CorruptInputError } from "../../src/errors.js";
import { isDigest, sha256 } from "../../src/digest.js";
import { DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, DOCKER_SCHEMA1_SIGNED } from "../../src/manifest/media-types.js";
import type { Digest } from "../../src/types.js";

export interface ConvertedSchema1 {
  /** The schema 2 manifest (layers sized 0 until copied). */
  manifest: Buffer;
  config: Buffer;
  configDigest: Digest;
  /** The layers' blobs, base first (empty "throwaway" entries left out). */
  layers: Digest[];
}

interface Schema1 {
  fsLayers?: { blobSum?: unknown }[];
  history?: { v1Compatibility?: unknown }[];
}

/** Keys of a v1Compatibility entry that describe the v1 layer, not the image. */
const V1_ONLY_KEYS = ["id", "parent", "Size", "parent_id", "layer_id", "throwaway"];

/** The digest a registry gives a schema 1 manifest: a signed one's is its payload's, without the signatures. */
export function schema1Digest(bytes: Buffer, mediaType: string): Digest {
  if (mediaType !== DOCKER_SCHEMA1_SIGNED) return sha256(bytes);
  try {
    const doc = JSON.parse(bytes.toString("utf8")) as { signatures?: { protected?: unknown }[] };
    const header = doc.signatures?.[0]?.protected;
    if (typeof header !== "string") return sha256(bytes);
    const { formatLength, formatTail } = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { formatLength?: unknown; formatTail?: unknown };
    if (typeof formatLength !== "number" || typeof formatTail !== "string" || formatLength > bytes.length) return sha256(bytes);
    return sha256(Buffer.concat([bytes.subarray(0, formatLength), Buffer.from(formatTail, "base64url")]));
  } catch {
    return sha256(bytes);
  }
}

export function convertSchema1(bytes: Buffer, label: string): ConvertedSchema1 {
  const fail = (why: string): CorruptInputError => new CorruptInputError(`${label}: Docker schema 1 manifest: ${why}`);
  let doc: Schema1;
  try {
    doc = JSON.parse(bytes.toString("utf8")) as Schema1;
  } catch (err) {
    throw fail(`not JSON (${(err as Error).message})`);
  }
  const fsLayers = doc.fsLayers;
  const history = doc.history;
  if (!Array.isArray(fsLayers) || !Array.isArray(history) || fsLayers.length === 0 || fsLayers.length !== history.length) {
    throw fail("fsLayers and history must be lists of the same, non-zero length");
  }
  // Index 0 is the top layer: walk from the base up.
  const entries = fsLayers.map((layer, i) => {
    const blobSum = layer?.blobSum;
    if (typeof blobSum !== "string" || !isDigest(blobSum)) throw fail(`fsLayers[${i}].blobSum is not a sha256 digest`);
    const text = history[i]?.v1Compatibility;
    let v1: Record<string, unknown>;
    try {
      v1 = JSON.parse(typeof text === "string" ? text : "") as Record<string, unknown>;
    } catch {
      throw fail(`history[${i}].v1Compatibility is not JSON`);
    }
    if (typeof v1 !== "object" || v1 === null || Array.isArray(v1)) throw fail(`history[${i}].v1Compatibility is not a JSON object`);
    return { blobSum, v1 };
  }).reverse();

  const layers = entries.filter((e) => e.v1.throwaway !== true).map((e) => e.blobSum);
  const configHistory = entries.map(({ v1 }) => {
    const cmd = (v1.container_config as { Cmd?: unknown } | undefined)?.Cmd;
    const line: Record<string, unknown> = {};
    if (typeof v1.created === "string") line.created = v1.created;
    if (typeof v1.author === "string" && v1.author !== "") line.author = v1.author;
    if (Array.isArray(cmd) && cmd.length > 0) line.created_by = cmd.join(" ");
    if (typeof v1.comment === "string" && v1.comment !== "") line.comment = v1.comment;
    if (v1.throwaway === true) line.empty_layer = true;
    return line;
  });
  const top = { ...entries[entries.length - 1]!.v1 };
  for (const key of V1_ONLY_KEYS) delete top[key];
  // Placeholders, one per layer: the engine puts the DiffIDs it computes in their place.
  const diffIds = layers.map((_, i) => sha256(`imgcopy-schema1-placeholder:${i}`));
  const config = Buffer.from(JSON.stringify({ ...top, rootfs: { type: "layers", diff_ids: diffIds }, history: configHistory }));
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: DOCKER_CONFIG, size: config.length, digest: configDigest },
      layers: layers.map((digest) => ({ mediaType: DOCKER_LAYER_GZIP, size: 0, digest })),
    }),
  );
  return { manifest, config, configDigest, layers };
}
