// The shapes of OCI manifests/indexes and Docker v2s2 manifests/lists, as parsed and validated.
// Parsed objects keep any field they do not describe, so re-serialising an edited one loses nothing.
import type { Digest } from "../types.js";

export interface Platform {
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  data?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** "oci" for the OCI image spec types, "docker" for Docker v2 schema 2. */
export type ManifestFormat = "oci" | "docker";

/** A validated manifest; `mediaType` is its type (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST). */
export type ParsedManifest =
  | { kind: "manifest"; mediaType: string; format: ManifestFormat; manifest: ImageManifest }
  | { kind: "index"; mediaType: string; format: ManifestFormat; index: ImageIndex };
