// Pushing one blob: HEAD (already there?), cross-repository mount, or POST → one streaming PATCH →
// PUT ?digest= with the digest hashed on the way, so a layer whose digest is unknown streams once
// (chunked PATCHes when the registry asks for them with OCI-Chunk-Min-Length).
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { DigestingStream } from "../../src/digest.js";
import { DigestMismatchError, NetworkError } from "../../src/errors.js";
import type { Digest, StreamDigest } from "../../src/types.js";
import { chunkSizeFrom, patchInChunks } from "./chunked-upload.js";
import { pullScope, pushScope } from "./endpoints.js";
import type { RegistryClient, RegistryResponse } from "./registry-client.js";

export interface UploadTarget {
  client: RegistryClient;
  repository: string;
  what: string;
  signal?: AbortSignal | undefined;
}

/** The blob's size when the repository has it, else undefined. */
export async function headBlob(t: UploadTarget, digest: Digest): Promise<number | undefined> {
  const res = await t.client.send({
    method: "HEAD",
    url: `/v2/${t.repository}/blobs/${digest}`,
    scopes: [pushScope(t.repository)],
    expect: [200, 404],
    what: `${t.what}: blob ${digest}`,
    signal: t.signal,
    followRedirects: true,
  });
  await res.body.dump().catch(() => undefined);
  if (res.status !== 200) return undefined;
  const size = Number(res.headers["content-length"]);
  return Number.isSafeInteger(size) ? size : -1;
}

/** Mounts `digest` from `from` (same registry); true when mounted, false when the registry opened an upload instead (cancelled). */
export async function mountBlob(t: UploadTarget, digest: Digest, from: string): Promise<boolean> {
  const res = await t.client.send({
    method: "POST",
    url: `/v2/${t.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
    scopes: [pushScope(t.repository), pullScope(from)],
    expect: [201, 202],
    what: `${t.what}: mounting blob ${digest} from ${from}`,
    signal: t.signal,
  });
  await res.body.dump().catch(() => undefined);
  if (res.status === 201) return true;
  const location = res.headers.location;
  if (typeof location === "string") await cancelUpload(t, location);
  return false;
}

/**
 * What the engine already knows of the bytes it streams: their digest and size as it verified them
 * (`known`), or as it hashes them on the way (`computed`). Either way the upload hashes nothing
 * again; with neither, it hashes what it sends.
 */
export interface UploadDigest {
  known?: { digest: Digest; size: number };
  computed?: StreamDigest;
}

/**
 * Streams `stream` into the repository and returns the digest and size sent (the PUT ?digest= makes
 * the registry check them too). A failure cancels the upload session.
 */
export async function uploadBlob(t: UploadTarget, stream: Readable, given: UploadDigest = {}): Promise<{ digest: Digest; size: number }> {
  const expected = given.known?.digest;
  const scopes = [pushScope(t.repository)];
  const label = `${t.what}: uploading blob ${expected ?? "(digest computed while sending)"}`;
  let started;
  try {
    started = await t.client.send({ method: "POST", url: `/v2/${t.repository}/blobs/uploads/`, scopes, expect: [202], what: label, signal: t.signal });
  } catch (err) {
    abandon(stream, err);
    throw err;
  }
  await started.body.dump().catch(() => undefined);
  let location = locationOf(started.headers.location, label);
  // Between the caller's stream and the HTTP request, which destroys its body with the socket's raw error:
  // piped by hand, not with pipeline(), a failed PATCH stops the caller's stream with our
  // (retryable, explained) error instead. It hashes only when the engine did not.
  const hasher = given.known || given.computed ? new CountingStream() : new DigestingStream();
  stream.on("error", (err) => hasher.destroy(err));
  stream.pipe(hasher);
  try {
    const chunkSize = chunkSizeFrom(started.headers["oci-chunk-min-length"], label);
    if (chunkSize !== undefined) {
      location = await patchInChunks({ client: t.client, scopes, label, signal: t.signal }, hasher, location, chunkSize);
    } else {
      const patched = await streamingPatch(t, hasher, location, label);
      await patched.body.dump().catch(() => undefined);
      location = locationOf(patched.headers.location, label);
    }
    const digest = given.known?.digest ?? given.computed?.digest() ?? (hasher as DigestingStream).digest();
    if (expected !== undefined && digest !== expected) throw new DigestMismatchError(label, expected, digest);
    const url = t.client.resolve(location);
    url.searchParams.set("digest", digest);
    const done = await t.client.send({ method: "PUT", url, scopes, expect: [201, 204], what: label, signal: t.signal });
    await done.body.dump().catch(() => undefined);
    const stored = done.headers["docker-content-digest"];
    if (typeof stored === "string" && stored !== "" && stored !== digest) throw new DigestMismatchError(`${label} as stored by the registry`, digest, stored);
    return { digest, size: hasher.size };
  } catch (err) {
    stream.unpipe(hasher);
    abandon(stream, err);
    hasher.destroy();
    await cancelUpload(t, location);
    throw err;
  }
}

/**
 * One PATCH with the whole blob streamed. The client times out a silent answer, not a peer that stops
 * reading what we send: a watchdog aborts the request when the body has waited, unread, for the
 * stall timeout (skopeo#2309: copies that hang for ever).
 */
async function streamingPatch(t: UploadTarget, body: Readable, location: string, label: string): Promise<RegistryResponse> {
  const stalled = new AbortController();
  const signal = t.signal ? AbortSignal.any([t.signal, stalled.signal]) : stalled.signal;
  const stallMs = t.client.stallTimeoutMs;
  let waiting = body.readableLength;
  let since = Date.now();
  const watchdog = setInterval(() => {
    const now = body.readableLength;
    if (now === 0 || now !== waiting) {
      waiting = now;
      since = Date.now();
    } else if (Date.now() - since >= stallMs) {
      stalled.abort();
    }
  }, Math.min(1000, Math.max(50, stallMs / 4)));
  try {
    return await t.client.send({
      method: "PATCH",
      url: location,
      headers: { "content-type": "application/octet-stream" },
      body,
      scopes: [pushScope(t.repository)],
      expect: [202],
      what: label,
      signal,
    });
  } catch (err) {
    if (stalled.signal.aborted && !t.signal?.aborted) {
      throw new NetworkError(`${label}: ${t.client.endpoint} stopped reading the upload for ${stallMs / 1000} s (stalled connection)`, { cause: err });
    }
    throw err;
  } finally {
    clearInterval(watchdog);
  }
}

/** A pass-through that counts the bytes it hands on (their digest is known elsewhere). */
class CountingStream extends Transform {
  size = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    done(null, chunk);
  }
}

/** Stops the caller's stream with our error (so that the copy reports it, not "premature close"). */
function abandon(stream: Readable, err: unknown): void {
  stream.on("error", () => undefined); // the error is reported by our rejection
  stream.destroy(err instanceof Error ? err : new Error(String(err)));
}

/** DELETE an upload session; best effort (the registry expires abandoned uploads anyway). */
async function cancelUpload(t: UploadTarget, location: string): Promise<void> {
  try {
    const res = await t.client.send({
      method: "DELETE",
      url: location,
      scopes: [pushScope(t.repository)],
      expect: [204, 200, 202, 404, 405],
      what: `${t.what}: cancelling an upload`,
    });
    await res.body.dump().catch(() => undefined);
  } catch {
    // the upload expires on the registry's side
  }
}

function locationOf(header: string | string[] | undefined, label: string): string {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) throw new NetworkError(`${label}: the registry did not say where to upload (no Location header)`, { retryable: false });
  return value;
}
