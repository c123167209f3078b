// Reads one image out of an indexed docker-archive: its config and its layers' digests and sizes.
import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { sha256 } from "../../src/digest.js";
import { CorruptInputError, DigestMismatchError, UnsupportedError, isImgcopyError } from "../../src/errors.js";
import { DOCKER_LAYER_GZIP, DOCKER_LAYER_TAR } from "../../src/manifest/media-types.js";
import { MAGIC_LENGTH, compressionOfMagic } from "../../src/compression/detect-compression.js";
import type { Digest } from "../../src/types.js";
import { readRange } from "./archive-input.js";
import { chooseManifestItem, parseArchiveManifest } from "./archive-manifest.js";
import type { NamedTagged } from "./docker-reference.js";
import type { TarEntry, TarIndex } from "./tar-index.js";

export interface ArchiveLayer {
  entry: TarEntry;
  digest: Digest;
  size: number;
  mediaType: string;
  compression: "none" | "gzip";
}

export interface ArchiveImage {
  configBytes: Buffer;
  configDigest: Digest;
  layers: ArchiveLayer[];
  repoTags: string[];
}

const MAX_MANIFEST = 16 * 1024 * 1024;
const MAX_CONFIG = 32 * 1024 * 1024;

/** "<hex>.tar", "<hex>.json", "blobs/sha256/<hex>": the digest a file name claims, if any. */
function digestInName(name: string, suffix: ".tar" | ".json"): Digest | undefined {
  const blob = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
  if (blob) return `sha256:${blob[1]}`;
  const base = name.slice(name.lastIndexOf("/") + 1);
  return base.length === 64 + suffix.length && base.endsWith(suffix) && /^[a-f0-9]{64}/.test(base) ? `sha256:${base.slice(0, 64)}` : undefined;
}

export async function loadArchiveImage(
  index: TarIndex,
  select: { named: NamedTagged | undefined; index: number | undefined },
): Promise<ArchiveImage> {
  const label = index.label;
  const manifestEntry = index.get("manifest.json");
  if (!manifestEntry) {
    if (index.get("repositories")) {
      throw new UnsupportedError(`${label}: no manifest.json; archives from docker save before Docker 1.10 are not supported`);
    }
    if (index.unmarkedEnd !== undefined) {
      throw new CorruptInputError(`${label}: truncated archive: no manifest.json, and no end-of-archive marker at offset ${index.unmarkedEnd}`);
    }
    throw new CorruptInputError(`${label}: not a docker-archive: no manifest.json in the tar`);
  }
  const item = chooseManifestItem(parseArchiveManifest(await index.read(index.resolve("manifest.json"), MAX_MANIFEST), label), select, label);

  const configEntry = resolveNamed(index, item.Config, "config");
  const configBytes = await index.read(configEntry, MAX_CONFIG);
  const configDigest = sha256(configBytes);
  const claimed = digestInName(configEntry.name, ".json") ?? digestInName(item.Config, ".json");
  if (claimed && claimed !== configDigest) throw new DigestMismatchError(`${label}: config ${item.Config}`, claimed, configDigest);
  const diffIds = parseDiffIds(configBytes, `${label}: config ${item.Config}`);
  if (diffIds.length !== item.Layers.length) {
    throw new CorruptInputError(`${label}: manifest.json lists ${item.Layers.length} layers but config ${item.Config} has ${diffIds.length} diff_ids`);
  }

  const known = new Map<string, ArchiveLayer>();
  const layers: ArchiveLayer[] = [];
  for (const [i, name] of item.Layers.entries()) {
    const entry = resolveNamed(index, name, "layer");
    const layer = known.get(entry.name) ?? (await describeLayer(index, entry, name));
    known.set(entry.name, layer);
    if (layer.compression === "none" && layer.digest !== diffIds[i]) {
      throw new CorruptInputError(`${label}: layer ${name} is ${layer.digest} but config diff_ids[${i}] says ${diffIds[i]}`);
    }
    layers.push(layer);
  }
  return { configBytes, configDigest, layers, repoTags: item.RepoTags };
}

function resolveNamed(index: TarIndex, name: string, what: string): TarEntry {
  try {
    return index.resolve(name);
  } catch (err) {
    if (isImgcopyError(err) && err.code === "ENOTFOUND") {
      const cut = index.unmarkedEnd === undefined ? "" : ` (the archive ends at offset ${index.unmarkedEnd} without an end-of-archive marker: truncated?)`;
      throw new CorruptInputError(`${index.label}: manifest.json names ${what} ${JSON.stringify(name)}, which is not in the archive${cut}`);
    }
    throw err;
  }
}

function parseDiffIds(bytes: Buffer, what: string): string[] {
  let config: { rootfs?: { diff_ids?: unknown } } | null;
  try {
    config = JSON.parse(bytes.toString("utf8")) as typeof config;
  } catch (err) {
    throw new CorruptInputError(`${what} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const ids = config?.rootfs?.diff_ids;
  if (!Array.isArray(ids) || !ids.every((d) => typeof d === "string")) {
    throw new CorruptInputError(`${what} has no rootfs.diff_ids list`);
  }
  return ids as string[];
}

/** Media type and digest of a layer; hashes it (one streaming pass) when its name does not say. */
async function describeLayer(index: TarIndex, entry: TarEntry, name: string): Promise<ArchiveLayer> {
  const head = await index.read({ ...entry, size: Math.min(entry.size, MAGIC_LENGTH) }, MAGIC_LENGTH);
  const kind = compressionOfMagic(head);
  if (kind !== "none" && kind !== "gzip") {
    throw new UnsupportedError(`${index.label}: layer ${name} is ${kind}-compressed, which a Docker v2s2 manifest cannot describe`);
  }
  const fromName = digestInName(entry.name, ".tar") ?? digestInName(name, ".tar");
  // A "<hex>.tar" name is the DiffID, which is the blob's digest only when the blob is uncompressed.
  const trusted = fromName && (kind === "none" || /blobs\/sha256\//.test(entry.name) || /blobs\/sha256\//.test(name));
  const digest = trusted ? fromName : await hashRange(index, entry);
  return {
    entry,
    digest,
    size: entry.size,
    mediaType: kind === "gzip" ? DOCKER_LAYER_GZIP : DOCKER_LAYER_TAR,
    compression: kind,
  };
}

async function hashRange(index: TarIndex, entry: TarEntry): Promise<Digest> {
  const hash = createHash("sha256");
  if (entry.size > 0) {
    await pipeline(readRange(index.path, entry.offset, entry.size), async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) hash.update(chunk);
    });
  }
  return `sha256:${hash.digest("hex")}`;
}
