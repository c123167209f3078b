// dir: stores a manifest's bytes without its media type: read it from the manifest, or guess it.
import { CorruptInputError } from "../../src/errors.js";
import {
  DOCKER_CONFIG,
  DOCKER_MANIFEST,
  DOCKER_SCHEMA1,
  DOCKER_SCHEMA1_SIGNED,
  OCI_INDEX,
  OCI_MANIFEST,
} from "../../src/manifest/media-types.js";

/** The manifest's "mediaType", else the type its fields imply (as containers/image guesses). */
export function manifestMediaType(bytes: Uint8Array, what: string): string {
  let m: Record<string, unknown>;
  try {
    const v = JSON.parse(Buffer.from(bytes).toString("utf8")) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not a JSON object");
    m = v as Record<string, unknown>;
  } catch (err) {
    throw new CorruptInputError(`${what}: the manifest is not a JSON object (${(err as Error).message})`, { cause: err });
  }
  if (typeof m.mediaType === "string" && m.mediaType !== "") return m.mediaType;
  if (m.schemaVersion === 1) return "signatures" in m ? DOCKER_SCHEMA1_SIGNED : DOCKER_SCHEMA1;
  if (Array.isArray(m.manifests)) return OCI_INDEX;
  const config = m.config as { mediaType?: unknown } | undefined;
  return config?.mediaType === DOCKER_CONFIG ? DOCKER_MANIFEST : OCI_MANIFEST;
}
