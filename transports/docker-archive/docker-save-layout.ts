// What a docker-archive holds, entry by entry, in the order skopeo writes them: layers, config,
// legacy per-layer folders, manifest.json, repositories.
import { createReadStream } from "node:fs";
import { digestHex } from "../../src/digest.js";
import type { Digest } from "../../src/types.js";
import { formatNamedTagged, type NamedTagged } from "./docker-reference.js";
import { legacyLayers, repositoriesJson } from "./legacy-layers.js";
import type { TarWriteEntry } from "./tar-writer.js";

export interface StoredBlob {
  digest: Digest;
  /** The temp file holding the blob. */
  path: string;
  size: number;
}

export interface DockerSaveImage {
  config: StoredBlob & { bytes: Buffer };
  /** In manifest order; the same layer may appear twice. */
  layers: StoredBlob[];
  repoTags: NamedTagged[];
}

/** manifest.json's single entry. */
export function manifestJson(image: DockerSaveImage): Buffer {
  const item = {
    Config: `${digestHex(image.config.digest)}.json`,
    RepoTags: image.repoTags.map(formatNamedTagged),
    Layers: image.layers.map((l) => `${digestHex(l.digest)}.tar`),
  };
  return Buffer.from(JSON.stringify([item]));
}

export function dockerSaveEntries(image: DockerSaveImage): TarWriteEntry[] {
  return [...layerEntries(image.layers), ...entriesAfterLayers(image)];
}

/** The layers' digests in the order their entries come, each once. */
export function layerEntryOrder(layers: readonly { digest: Digest }[]): Digest[] {
  return [...new Set(layers.map((l) => l.digest))];
}

/** `<hex>.tar`: a layer's entry in the archive. */
export function layerEntryName(digest: Digest): string {
  return `${digestHex(digest)}.tar`;
}

function layerEntries(layers: readonly StoredBlob[]): TarWriteEntry[] {
  const byDigest = new Map(layers.map((l) => [l.digest, l]));
  return layerEntryOrder(layers).map((digest) => {
    const layer = byDigest.get(digest) as StoredBlob;
    return { name: layerEntryName(digest), type: "file", size: layer.size, content: () => createReadStream(layer.path) };
  });
}

/** Everything that follows the layers: config, legacy per-layer folders, manifest.json, repositories. */
export function entriesAfterLayers(image: DockerSaveImage): TarWriteEntry[] {
  const entries: TarWriteEntry[] = [];
  const config = image.config;
  entries.push({ name: `${digestHex(config.digest)}.json`, type: "file", size: config.bytes.length, content: config.bytes });
  const legacy = legacyLayers(image.layers.map((l) => l.digest), config.bytes);
  for (const l of legacy) {
    entries.push({ name: `${l.id}/layer.tar`, type: "symlink", size: 0, linkname: `../${digestHex(l.digest)}.tar` });
    entries.push(bytesEntry(`${l.id}/VERSION`, Buffer.from("1.0")));
    entries.push(bytesEntry(`${l.id}/json`, l.json));
  }
  entries.push(bytesEntry("manifest.json", manifestJson(image)));
  entries.push(bytesEntry("repositories", repositoriesJson(image.repoTags, legacy.at(-1)?.id)));
  return entries;
}

function bytesEntry(name: string, bytes: Buffer): TarWriteEntry {
  return { name, type: "file", size: bytes.length, content: bytes };
}
