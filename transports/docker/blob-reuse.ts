// Pushing a layer again without compressing it again: a compressed blob the blob-info cache says
// holds the layer's DiffID stands in for it only once the registry has it in this repository (HEAD),
// or in another of its repositories (then mounted), AND its bytes, read back, hash to its digest and
// decompress to the DiffID. The cache only suggests: a stale or lying entry costs a read, never an
// image whose layer does not match its config's diff_ids.
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createDecompressor } from "../../src/compression/codec-streams.js";
import { DigestingStream, VerifyingStream, isDigest } from "../../src/digest.js";
import type { BlobInfo, CompressionAlgorithm, Digest, NearbyCandidate } from "../../src/types.js";
import { openBlob } from "./blob-reader.js";
import { headBlob, mountBlob, type UploadTarget } from "./blob-upload.js";
import { pullScope, pushScope } from "./endpoints.js";

export interface ReuseRequest {
  diffId: Digest;
  algorithm: CompressionAlgorithm;
  /** The cache's entries for this repository. */
  candidates: readonly BlobInfo[];
  /** The cache's entries for other locations of the registry (`scope` + REPOSITORY). */
  nearby: readonly NearbyCandidate[];
  /** The blob-info cache location prefix of this registry: "docker://HOST/". */
  scope: string;
}

/** A blob of this repository (after a mount, if need be) that holds `diffId` compressed with `algorithm`; undefined when no candidate checks out. */
export async function reuseCompressedBlob(t: UploadTarget, req: ReuseRequest): Promise<BlobInfo | undefined> {
  const found = (digest: Digest, size: number): BlobInfo => ({ digest, size, compression: req.algorithm, uncompressedDigest: req.diffId });
  for (const c of req.candidates) {
    if (!usable(c, req.algorithm)) continue;
    const size = await headBlob(t, c.digest).catch(rethrowIfAborted(t));
    if (size === false) continue;
    if (size === undefined || (size >= 0 && size !== c.size)) continue;
    if (await holdsDiffId(t, t.repository, c, req)) return found(c.digest, c.size);
  }
  for (const n of req.nearby) {
    const from = n.location.startsWith(req.scope) ? n.location.slice(req.scope.length) : "";
    if (from === "" || from === t.repository || !usable(n.blob, req.algorithm)) continue;
    // Checked where it is (pull access there is what a mount needs anyway), then mounted.
    if (!(await holdsDiffId(t, from, n.blob, req))) continue;
    if (await mountBlob(t, n.blob.digest, from).catch(rethrowIfAborted(t))) return found(n.blob.digest, n.blob.size);
  }
  return undefined;
}

function usable(c: BlobInfo, algorithm: CompressionAlgorithm): boolean {
  return isDigest(c.digest) && c.compression === algorithm && Number.isSafeInteger(c.size) && c.size > 0;
}

/**
 * Reads the blob from `repository` and checks it: its bytes hash to its digest and size (the ones
 * any puller will check), and decompressed they hash to the DiffID. Any failure (missing, denied,
 * not that compression, another content) is a "no".
 */
async function holdsDiffId(t: UploadTarget, repository: string, blob: BlobInfo, req: ReuseRequest): Promise<boolean> {
  const what = `${t.what}: checking ${blob.digest} in ${repository} for layer ${req.diffId}`;
  const scopes = [repository === t.repository ? pushScope(repository) : pullScope(repository)];
  const uncompressed = new DigestingStream();
  try {
    const read = await openBlob({ client: t.client, url: `/v2/${repository}/blobs/${blob.digest}`, scopes, anonymous: false, size: blob.size, what }, t.signal);
    const discard = new Writable({ write: (_chunk, _enc, done) => done() });
    await pipeline(read.stream, new VerifyingStream(what, blob.digest, blob.size), await createDecompressor(req.algorithm, what), uncompressed, discard, {
      ...(t.signal ? { signal: t.signal } : {}),
    });
  } catch (err) {
    rethrowIfAborted(t)(err);
    return false;
  }
  return uncompressed.digest() === req.diffId;
}

/** A catch handler: a cancelled copy stops here; any other failure means "not reusable". */
function rethrowIfAborted(t: UploadTarget): (err: unknown) => false {
  return (err) => {
    if (t.signal?.aborted) throw err;
    return false;
  };
}
