// The media type of a manifest stored without one (dir: keeps only bytes; OCI makes the field optional).
import {
  DOCKER_CONFIG,
  DOCKER_MANIFEST,
  DOCKER_SCHEMA1,
  DOCKER_SCHEMA1_SIGNED,
  OCI_INDEX,
  OCI_MANIFEST,
} from "./media-types.js";

/**
 * The manifest's own "mediaType", else the type its fields imply, as containers/image guesses.
 * Unlike manifestMediaType (parse-manifest.ts) it never throws: schema 1 is named, for the engine to refuse.
 */
export function guessManifestMediaType(json: unknown): string {
  const m = (typeof json === "object" && json !== null && !Array.isArray(json) ? json : {}) as Record<string, unknown>;
  if (typeof m.mediaType === "string" && m.mediaType !== "") return m.mediaType;
  if (m.schemaVersion === 1) return "signatures" in m ? DOCKER_SCHEMA1_SIGNED : DOCKER_SCHEMA1;
  if (Array.isArray(m.manifests)) return OCI_INDEX;
  const config = m.config as { mediaType?: unknown } | undefined;
  return config?.mediaType === DOCKER_CONFIG ? DOCKER_MANIFEST : OCI_MANIFEST;
}
