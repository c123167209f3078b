// The config, layers and instances of a parsed manifest, whatever its type.
import type { Descriptor, ParsedManifest } from "./manifest-types.js";

/** The config descriptor of an image manifest; undefined for an index/list. */
export function configDescriptor(m: ParsedManifest): Descriptor | undefined {
  return m.kind === "manifest" ? m.manifest.config : undefined;
}

/** The layer descriptors of an image manifest in order; [] for an index/list. */
export function layerDescriptors(m: ParsedManifest): Descriptor[] {
  return m.kind === "manifest" ? m.manifest.layers : [];
}

/** The entries of an index/list; [] for an image manifest. */
export function instanceDescriptors(m: ParsedManifest): Descriptor[] {
  return m.kind === "index" ? m.index.manifests : [];
}

/** The annotations of a manifest or index (Docker types have none). */
export function manifestAnnotations(m: ParsedManifest): Record<string, string> | undefined {
  return m.kind === "manifest" ? m.manifest.annotations : m.index.annotations;
}
