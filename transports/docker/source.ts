// Reading an image from a registry: the manifest (full Accept list, 4 MiB cap, digest checked),
// blobs streamed with redirects and Range resume, foreign layers fetched without credentials.
import { Readable } from "node:stream";
import { VerifyingStream, sha256 } from "../../src/digest.js";
import { CorruptInputError, DigestMismatchError, NotFoundError, isImgcopyError } from "../../src/errors.js";
import { DOCKER_LAYER_GZIP, DOCKER_LIST, DOCKER_MANIFEST, DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED, OCI_INDEX, OCI_MANIFEST, isSchema1Type } from "../../src/manifest/media-types.js";
import { guessManifestMediaType } from "../../src/manifest/guess-media-type.js";
import type { BlobInfo, BlobStream, Digest, ImageSource, ManifestBlob, SystemContext } from "../../src/types.js";
import { openBlob } from "./blob-reader.js";
import { connectEndpoint, endpointsFor, pullScope, type Endpoint } from "./endpoints.js";
import { noteBlobLocation } from "./known-blobs.js";
import type { DockerReference } from "./reference.js";
import type { RegistryClient } from "./registry-client.js";
import { convertSchema1, schema1Digest, type ConvertedSchema1 } from "./schema1.js";
import { fetchTags } from "./tags-list.js";

/** Manifests larger than this are refused (containers/image's limit). */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
// Schema 1 last: a registry holding only that gives it (read converted); one with schema 2 gives that.
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST, DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1].join(", ");

export class DockerImageSource implements ImageSource {
  private constructor(
    readonly reference: DockerReference,
    private readonly client: RegistryClient,
    private readonly repository: string,
    private readonly top: ManifestBlob,
    /** A schema 1 image, read converted: its config, made here, and its layers (placeholders for the engine). */
    private readonly schema1?: ConvertedSchema1,
  ) {}

  /** Connects (mirrors first, then the primary) and reads the manifest the reference names. */
  static async open(ref: DockerReference, ctx: SystemContext): Promise<DockerImageSource> {
    let firstError: unknown;
    for (const endpoint of await endpointsFor(ref, ctx, true)) {
      let client: RegistryClient | undefined;
      try {
        client = await connectEndpoint(ref, endpoint, ctx);
        const fetched = await fetchManifest(client, endpoint.repository, ref.manifestReference, ref.toString(), ctx.signal);
        let top = fetched;
        let schema1: ConvertedSchema1 | undefined;
        if (isSchema1Type(fetched.mediaType)) {
          schema1 = convertSchema1(Buffer.from(fetched.bytes), `${ref.toString()}: manifest ${ref.manifestReference}`);
          top = { bytes: schema1.manifest, mediaType: DOCKER_MANIFEST };
          ctx.warn?.(`note: ${ref.toString()}: a Docker schema 1 manifest, read as schema 2 (config made from its history; the layers' DiffIDs are computed while copying)`);
        }
        noteManifestBlobs(client.endpoint, endpoint.repository, top.bytes);
        return new DockerImageSource(ref, client, endpoint.repository, top, schema1);
      } catch (err) {
        await client?.close();
        if (!endpoint.isMirror) throw err; // the primary's answer is the one that counts
        firstError ??= err;
        ctx.warn?.(`${ref.toString()}: mirror ${describe(endpoint)} failed, trying the next: ${(err as Error).message}`);
      }
    }
    throw firstError;
  }

  get dockerName(): string {
    return this.reference.name;
  }

  async listTags(signal?: AbortSignal): Promise<string[]> {
    return fetchTags(this.client, this.repository, `${this.reference.toString()}: tags`, signal);
  }

  async getManifest(instance?: Digest): Promise<ManifestBlob> {
    if (instance === undefined) return this.top;
    const blob = await fetchManifest(this.client, this.repository, instance, this.reference.toString());
    noteManifestBlobs(this.client.endpoint, this.repository, blob.bytes);
    return blob;
  }

  /** A converted schema 1 image: its layers, whose DiffIDs the engine computes (placeholders with their real blob digests). */
  async layerInfosForCopy(instance?: Digest): Promise<BlobInfo[] | undefined> {
    if (instance !== undefined || !this.schema1) return undefined;
    return this.schema1.layers.map((digest) => ({ digest, size: -1, mediaType: DOCKER_LAYER_GZIP, placeholder: true }));
  }

  async getBlob(info: BlobInfo, signal?: AbortSignal): Promise<BlobStream> {
    const what = `${this.reference.toString()}: blob ${info.digest}`;
    if (this.schema1 && info.digest === this.schema1.configDigest) {
      return { stream: Readable.from([this.schema1.config]), size: this.schema1.config.length };
    }
    if (this.schema1 && info.placeholder) {
      // The engine hashes a placeholder's bytes without a digest to hold them to: this one has its blobSum.
      const blob = await this.getBlob({ ...info, placeholder: false }, signal);
      const verifier = new VerifyingStream(what, info.digest, -1);
      blob.stream.on("error", (err) => verifier.destroy(err));
      return { stream: blob.stream.pipe(verifier), size: blob.size };
    }
    const scopes = [pullScope(this.repository)];
    const fromRegistry = (): Promise<BlobStream> =>
      openBlob({ client: this.client, url: `/v2/${this.repository}/blobs/${info.digest}`, scopes, anonymous: false, size: info.size, what }, signal);
    try {
      const blob = await fromRegistry();
      noteBlobLocation(this.client.endpoint, this.repository, info.digest);
      return blob;
    } catch (err) {
      if (!info.urls?.length || !isNotFound(err)) throw err;
    }
    // A foreign (non-distributable) layer: its bytes live at its URLs, which never get our credentials.
    let firstError: unknown;
    for (const url of info.urls) {
      if (!/^https?:\/\//.test(url)) continue;
      try {
        return await openBlob({ client: this.client, url, scopes: [], anonymous: true, size: info.size, what: `${what} from ${url}` }, signal);
      } catch (err) {
        firstError ??= err;
      }
    }
    throw firstError ?? new NotFoundError(`${what}: not in the registry and no http(s) URL to fetch it from`);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** GET a manifest by tag or digest; by digest, the bytes must hash to it. */
export async function fetchManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  what: string,
  signal?: AbortSignal,
): Promise<ManifestBlob> {
  const label = `${what}: manifest ${reference}`;
  const res = await client.send({
    method: "GET",
    url: `/v2/${repository}/manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: [pullScope(repository)],
    expect: [200],
    what: label,
    signal,
  });
  const declared = Number(res.headers["content-length"]);
  if (declared > MAX_MANIFEST_SIZE) {
    await res.body.dump().catch(() => undefined);
    throw new CorruptInputError(`${label}: ${declared} bytes is larger than the ${MAX_MANIFEST_SIZE}-byte limit for manifests`);
  }
  const bytes = await readManifestBytes(res.body, label);
  const contentType = String(res.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
  let mediaType = contentType;
  if (mediaType === "" || mediaType === "application/json" || mediaType === "text/plain") {
    try {
      mediaType = guessManifestMediaType(JSON.parse(bytes.toString("utf8")));
    } catch (err) {
      throw new CorruptInputError(`${label}: not JSON (${(err as Error).message})`);
    }
  }
  if (reference.startsWith("sha256:")) {
    const digest = isSchema1Type(mediaType) ? schema1Digest(bytes, mediaType) : sha256(bytes);
    if (digest !== reference) throw new DigestMismatchError(label, reference, digest);
  }
  return { bytes, mediaType };
}

/** The body, at most MAX_MANIFEST_SIZE bytes: one byte more and the connection is dropped (a body without a length may never end). */
async function readManifestBytes(body: Readable, label: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_MANIFEST_SIZE) {
      body.destroy();
      throw new CorruptInputError(`${label}: larger than the ${MAX_MANIFEST_SIZE}-byte limit for manifests`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

/** A registry that serves a manifest holds its blobs: a push to another repository there may mount them. */
function noteManifestBlobs(host: string, repository: string, bytes: Uint8Array): void {
  try {
    const m = JSON.parse(Buffer.from(bytes).toString("utf8")) as { config?: { digest?: unknown }; layers?: Array<{ digest?: unknown; urls?: unknown }> };
    const digests = [m.config?.digest, ...(m.layers ?? []).filter((l) => l.urls === undefined).map((l) => l.digest)];
    for (const d of digests) if (typeof d === "string") noteBlobLocation(host, repository, d);
  } catch {
    // not JSON: the engine reports that when it parses the manifest
  }
}

function isNotFound(err: unknown): boolean {
  return isImgcopyError(err) && err.code === "ENOTFOUND";
}

function describe(e: Endpoint): string {
  return `${e.host}/${e.repository}`;
}
