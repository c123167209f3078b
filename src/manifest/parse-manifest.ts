// Parsing and validating manifests: OCI manifest and index, Docker v2s2 manifest and list.
import { CorruptInputError, UnsupportedError } from "../errors.js";
import type { ImageIndex, ImageManifest, ManifestFormat, ParsedManifest } from "./manifest-types.js";
import {
  DOCKER_LIST,
  DOCKER_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
  isSchema1Type,
} from "./media-types.js";
import { FieldChecker, isObject, type JsonObject } from "./validate-fields.js";

const KNOWN: Record<string, { kind: "manifest" | "index"; format: ManifestFormat }> = {
  [OCI_MANIFEST]: { kind: "manifest", format: "oci" },
  [OCI_INDEX]: { kind: "index", format: "oci" },
  [DOCKER_MANIFEST]: { kind: "manifest", format: "docker" },
  [DOCKER_LIST]: { kind: "index", format: "docker" },
};

/** Parses JSON bytes; CorruptInputError naming `what` when they are not a JSON object. */
export function parseJsonObject(bytes: Uint8Array, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (err) {
    throw new CorruptInputError(`${what}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (!isObject(value)) throw new CorruptInputError(`${what}: not a JSON object`);
  return value;
}

/**
 * The type of a manifest: its own `mediaType` field when it has one, else `hint` (what the
 * source said), else a guess from its fields (OCI makes `mediaType` optional).
 */
export function manifestMediaType(json: JsonObject, hint: string | undefined, what: string): string {
  if (json.schemaVersion === 1 || (hint !== undefined && isSchema1Type(hint))) {
    throw new UnsupportedError(`${what}: Docker schema 1 manifests are not supported (convert it with a registry or docker first)`);
  }
  if (json.mediaType !== undefined) {
    if (typeof json.mediaType !== "string") throw new CorruptInputError(`${what}: mediaType is not a string`);
    return json.mediaType;
  }
  if (hint && KNOWN[hint]) return hint;
  if (Array.isArray(json.manifests)) return OCI_INDEX;
  if (json.config !== undefined || Array.isArray(json.layers)) return OCI_MANIFEST;
  if (hint) return hint;
  throw new CorruptInputError(`${what}: neither a manifest (config, layers) nor an index (manifests)`);
}

/**
 * Parses and validates `bytes` as a manifest or index. `hint` is the media type the source gave,
 * `what` names the document in errors ("manifest of oci:/x:latest").
 */
export function parseManifest(bytes: Uint8Array, hint: string | undefined, what: string): ParsedManifest {
  const json = parseJsonObject(bytes, what);
  const mediaType = manifestMediaType(json, hint, what);
  const known = KNOWN[mediaType];
  if (!known) throw new UnsupportedError(`${what}: unsupported manifest type ${mediaType}`);
  const check = new FieldChecker(what);
  if (json.schemaVersion !== 2) {
    check.fail("schemaVersion", json.schemaVersion === undefined ? "is missing" : `is ${JSON.stringify(json.schemaVersion)}, expected 2`);
  }
  check.annotations(json.annotations, "annotations");
  if (json.subject !== undefined && json.subject !== null) check.descriptor(json.subject, "subject");
  check.optionalString(json.artifactType, "artifactType");
  if (known.kind === "manifest") {
    check.descriptor(json.config, "config");
    check.array(json.layers, "layers").forEach((layer, i) => check.descriptor(layer, `layers[${i}]`));
    return { kind: "manifest", mediaType, format: known.format, manifest: json as unknown as ImageManifest };
  }
  check.array(json.manifests, "manifests").forEach((entry, i) => {
    check.descriptor(entry, `manifests[${i}]`);
    if (known.format === "docker") check.platform((entry as JsonObject).platform, `manifests[${i}].platform`);
  });
  return { kind: "index", mediaType, format: known.format, index: json as unknown as ImageIndex };
}

/** The manifest format a manifest or index media type belongs to, undefined when it is neither. */
export function formatOfManifestType(mediaType: string): ManifestFormat | undefined {
  return KNOWN[mediaType]?.format;
}
