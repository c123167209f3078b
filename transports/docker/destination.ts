// Writing an image into a registry: blobs as they stream (HEAD, mount, or upload), index instances
// by digest, and the manifest PUT last, in commit(): until then no tag has changed.
import type { Readable } from "node:stream";
import { sha256 } from "../../src/digest.js";
import { DigestMismatchError, UnsupportedError } from "../../src/errors.js";
import { DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST } from "../../src/manifest/media-types.js";
import type { BlobInfo, Digest, ImageDestination, LayerCompressionWish, PutBlobOptions, ReuseOptions, SystemContext } from "../../src/types.js";
import { reuseCompressedBlob } from "./blob-reuse.js";
import { headBlob, mountBlob, uploadBlob, type UploadTarget } from "./blob-upload.js";
import { connectEndpoint, endpointsFor, pushScope } from "./endpoints.js";
import { knownBlobLocations } from "./known-blobs.js";
import type { DockerReference } from "./reference.js";
import { readCapped, type RegistryClient } from "./registry-client.js";
import { errorForStatus, parseErrorBody } from "./registry-errors.js";
import { backoffMs, sleep } from "./retry-policy.js";

/** Manifest PUTs retried when the registry briefly misses a blob a concurrent push is re-linking. */
const BLOB_LINK_RACE_ATTEMPTS = 4;

export class DockerImageDestination implements ImageDestination {
  private pending: { bytes: Uint8Array; mediaType: string } | undefined;
  private closed = false;

  private constructor(
    readonly reference: DockerReference,
    private readonly client: RegistryClient,
    private readonly repository: string,
    private readonly ctx: SystemContext,
  ) {}

  static async open(ref: DockerReference, ctx: SystemContext): Promise<DockerImageDestination> {
    const [primary] = await endpointsFor(ref, ctx, false);
    const endpoint = primary!;
    const client = await connectEndpoint(ref, endpoint, ctx);
    return new DockerImageDestination(ref, client, endpoint.repository, ctx);
  }

  supportedManifestTypes(): readonly string[] {
    return [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST];
  }

  desiredLayerCompression(): LayerCompressionWish {
    return "compress";
  }

  hasThreadSafePutBlob(): boolean {
    return true;
  }

  async tryReusingBlob(info: BlobInfo, opts?: ReuseOptions): Promise<BlobInfo | undefined> {
    if (info.placeholder) return undefined;
    if (opts?.compressTo) {
      // info.digest is the DiffID of a plain layer: only a checked compressed blob stands in for it.
      return reuseCompressedBlob(this.target(), {
        diffId: info.digest,
        algorithm: opts.compressTo,
        candidates: opts.candidates ?? [],
        nearby: opts.nearbyCandidates ?? [],
        scope: this.blobCacheScope(),
      });
    }
    const size = await headBlob(this.target(), info.digest);
    if (size !== undefined) return { ...info, size: size >= 0 ? size : info.size };
    for (const from of knownBlobLocations(this.client.endpoint, info.digest, this.repository)) {
      if (await mountBlob(this.target(), info.digest, from)) return { ...info };
    }
    return undefined;
  }

  /** As containers/image keys its cache for registries: by registry and repository. */
  blobCacheLocation(): string {
    return `${this.blobCacheScope()}${this.repository}`;
  }

  /** A registry's other repositories: their blobs can be mounted here. */
  blobCacheScope(): string {
    return `docker://${this.client.endpoint}/`;
  }

  async putBlob(stream: Readable, info: BlobInfo, opts: PutBlobOptions): Promise<BlobInfo> {
    this.checkOpen();
    // The engine verified a named digest, or hashes a placeholder's bytes as they flow: no second hash here.
    const given = info.placeholder ? (opts.streamDigest ? { computed: opts.streamDigest } : {}) : { known: { digest: info.digest, size: info.size } };
    const sent = await uploadBlob(this.target(), stream, given);
    if (!info.placeholder && info.size >= 0 && sent.size !== info.size) {
      throw new DigestMismatchError(`${this.reference.toString()}: blob ${info.digest}`, `size ${info.size}`, `size ${sent.size}`);
    }
    const { placeholder: _placeholder, ...rest } = info;
    return { ...rest, digest: sent.digest, size: sent.size };
  }

  async putManifest(bytes: Uint8Array, mediaType: string, instance?: Digest): Promise<void> {
    this.checkOpen();
    if (instance !== undefined) {
      // An index's member, put by its digest: visible to no one until the index names it.
      await this.putManifestAt(sha256(bytes), bytes, mediaType);
      return;
    }
    this.pending = { bytes, mediaType };
  }

  /** The one publish point: the manifest PUT by tag (or by digest for a digest reference). */
  async commit(): Promise<void> {
    this.checkOpen();
    const top = this.pending;
    if (!top) throw new UnsupportedError(`${this.reference.toString()}: commit before any manifest was written`);
    const digest = sha256(top.bytes);
    if (this.reference.digest !== undefined && this.reference.digest !== digest) {
      throw new DigestMismatchError(`${this.reference.toString()}: the manifest to push`, this.reference.digest, digest);
    }
    await this.putManifestAt(this.reference.manifestReference, top.bytes, top.mediaType);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Blobs already uploaded stay: untagged, unreferenced, and reused by the next push (HEAD).
    await this.client.close();
  }

  private async putManifestAt(reference: string, bytes: Uint8Array, mediaType: string): Promise<void> {
    const digest = sha256(bytes);
    const what = `${this.reference.toString()}: manifest ${reference}`;
    for (let attempt = 0; ; attempt++) {
      const res = await this.client.send({
        method: "PUT",
        url: `/v2/${this.repository}/manifests/${reference}`,
        headers: { "content-type": mediaType },
        body: Buffer.from(bytes),
        scopes: [pushScope(this.repository)],
        expect: [201, 200, 202, 400],
        what,
        signal: this.ctx.signal,
      });
      if (res.status === 400) {
        const text = await readCapped(res.body, 64 * 1024).catch(() => "");
        // Every blob was checked in before this PUT: "unknown" here is distribution's race between a
        // concurrent push rewriting a blob's repository link and this PUT reading it. It settles quickly.
        const racing = parseErrorBody(text).some((e) => e.code === "MANIFEST_BLOB_UNKNOWN" || e.code === "DIGEST_INVALID");
        if (racing && attempt < BLOB_LINK_RACE_ATTEMPTS) {
          await sleep(backoffMs(250, attempt), this.ctx.signal);
          continue;
        }
        throw errorForStatus(what, this.client.endpoint, res.status, text);
      }
      await res.body.dump().catch(() => undefined);
      const stored = res.headers["docker-content-digest"];
      if (typeof stored === "string" && stored !== "" && stored !== digest) {
        throw new DigestMismatchError(`${this.reference.toString()}: manifest as stored by the registry`, digest, stored);
      }
      return;
    }
  }

  private target(): UploadTarget {
    return { client: this.client, repository: this.repository, what: this.reference.toString(), signal: this.ctx.signal };
  }

  private checkOpen(): void {
    if (this.closed) throw new UnsupportedError(`${this.reference.toString()}: the destination is already closed`);
  }
}
