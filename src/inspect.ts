// inspectImage: what `skopeo inspect` prints (its JSON, --raw manifest, --config), for any transport.
import { pipeline } from "node:stream/promises";
import { VerifyingStream, sha256 } from "./digest.js";
import { CorruptInputError, DigestMismatchError, UnsupportedError } from "./errors.js";
import { chooseInstance } from "./manifest/choose-instance.js";
import { MAX_CONFIG_SIZE, parseImageConfig } from "./manifest/image-config.js";
import type { Descriptor, ImageManifest } from "./manifest/manifest-types.js";
import { parseJsonObject, parseManifest } from "./manifest/parse-manifest.js";
import type { ImageReference, ImageSource, ManifestBlob, SystemContext } from "./types.js";

export interface InspectOptions {
  ctx?: SystemContext;
  /** The manifest as stored (with `config`: the config blob as stored). */
  raw?: boolean;
  /** The image config instead of the summary. */
  config?: boolean;
  /** Registry sources: list the repository's tags as RepoTags (default true; skopeo's --no-tags turns it off). */
  tags?: boolean;
}

/** JSON to print (indented), or bytes to print as they are. */
export type InspectResult = { kind: "json"; value: unknown } | { kind: "bytes"; bytes: Uint8Array };

/**
 * skopeo 1.9.3 inspect's summary, field for field and in its order. Name: the repository the
 * reference names (containers-storage:NAME, docker-archive:…:NAME:TAG, registries). skopeo 1.9.3
 * prints no LayersData (newer skopeo does): neither do we, so that the output is byte-identical.
 */
export interface InspectSummary {
  Name?: string;
  Digest: string;
  RepoTags: string[];
  Created: string | null;
  DockerVersion: string;
  Labels: Record<string, string> | null;
  Architecture: string;
  Os: string;
  Layers: string[];
  Env: string[] | null;
}

export async function inspectImage(ref: ImageReference, opts: InspectOptions = {}): Promise<InspectResult> {
  const source = await ref.newImageSource(opts.ctx ?? {});
  try {
    const top = await source.getManifest();
    if (opts.raw && !opts.config) return { kind: "bytes", bytes: top.bytes };
    const name = ref.toString();
    const { manifest } = await imageManifest(source, top, name);
    const configBytes = await readSmallBlob(source, manifest.config, `config ${manifest.config.digest} of ${name}`);
    if (opts.config) {
      return opts.raw ? { kind: "bytes", bytes: configBytes } : { kind: "json", value: parseJsonObject(configBytes, `config of ${name}`) };
    }
    const summary = summarize(top, manifest, configBytes, name);
    const named = source.dockerName !== undefined ? { Name: source.dockerName, ...summary } : summary;
    if (source.listTags === undefined || opts.tags === false) return { kind: "json", value: named };
    return { kind: "json", value: { ...named, RepoTags: await source.listTags(opts.ctx?.signal) } };
  } finally {
    await source.close();
  }
}

/** The image manifest: the top one, or the index/list entry for this platform (digest checked). */
async function imageManifest(source: ImageSource, top: ManifestBlob, name: string): Promise<{ manifest: ImageManifest }> {
  const parsed = parseManifest(top.bytes, top.mediaType, `manifest of ${name}`);
  if (parsed.kind === "manifest") return { manifest: parsed.manifest };
  const entry = chooseInstance(parsed.index, `manifest of ${name}`);
  const blob = await source.getManifest(entry.digest);
  const actual = sha256(blob.bytes);
  if (actual !== entry.digest) throw new DigestMismatchError(`manifest ${entry.digest} of ${name}`, entry.digest, actual);
  const instance = parseManifest(blob.bytes, entry.mediaType, `manifest ${entry.digest} of ${name}`);
  if (instance.kind !== "manifest") throw new UnsupportedError(`manifest ${entry.digest} of ${name} is itself an index; nested indexes are not supported`);
  return { manifest: instance.manifest };
}

async function readSmallBlob(source: ImageSource, d: Descriptor, what: string): Promise<Buffer> {
  // The size comes from the manifest, which may be hostile: never buffer more than a config may hold.
  if (d.size > MAX_CONFIG_SIZE) throw new CorruptInputError(`${what}: ${d.size} bytes is too large for an image config`);
  const blob = await source.getBlob({ digest: d.digest, size: d.size, mediaType: d.mediaType });
  const chunks: Buffer[] = [];
  await pipeline(blob.stream, new VerifyingStream(what, d.digest, d.size), async (s: AsyncIterable<Buffer>) => {
    for await (const c of s) chunks.push(c);
  });
  return Buffer.concat(chunks);
}

function summarize(top: ManifestBlob, manifest: ImageManifest, configBytes: Buffer, name: string): InspectSummary {
  const config = parseImageConfig(configBytes, `config of ${name}`);
  const runtime = config.runtime ?? {};
  const dockerVersion = config.json.docker_version;
  return {
    Digest: sha256(top.bytes),
    RepoTags: [],
    Created: config.created === undefined ? null : goTimeText(config.created),
    DockerVersion: typeof dockerVersion === "string" ? dockerVersion : "",
    Labels: sortedMap(runtime.Labels),
    Architecture: config.architecture ?? "",
    Os: config.os ?? "",
    Layers: manifest.layers.map((l) => l.digest),
    Env: (runtime.Env as string[] | undefined) ?? null,
  };
}

/** A timestamp as Go prints a time.Time (RFC 3339, fractional seconds without trailing zeros). */
export function goTimeText(text: string): string {
  return text.replace(/\.(\d+)(?=(Z|[+-]\d\d:\d\d)$)/, (_m, frac: string) => {
    const trimmed = frac.replace(/0+$/, "");
    return trimmed ? `.${trimmed}` : "";
  });
}

/**
 * The bytes `skopeo inspect` would print: bytes as they are (--raw), else JSON indented by four
 * spaces with <, > and & escaped as Go's encoder does, and a final newline.
 */
export function renderInspectResult(result: InspectResult): Uint8Array {
  if (result.kind === "bytes") return result.bytes;
  const text = JSON.stringify(result.value, null, 4).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return Buffer.from(`${text}\n`, "utf8");
}

/** A string map with keys sorted, as Go marshals maps. */
function sortedMap(map: unknown): Record<string, string> | null {
  if (typeof map !== "object" || map === null) return null;
  return Object.fromEntries(Object.entries(map as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
