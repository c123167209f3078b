// Small blobs read whole (configs) and written from memory, verified like layers.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DigestMismatchError, CorruptInputError } from "../errors.js";
import { DigestingStream, VerifyingStream, sha256 } from "../digest.js";
import type { BlobInfo, Digest, ManifestBlob } from "../types.js";
import type { CopyRun } from "./copy-run.js";
import { streamToDestination } from "./stream-to-destination.js";
import type { Descriptor } from "../manifest/manifest-types.js";
import { MAX_CONFIG_SIZE } from "../manifest/image-config.js";


/** Reads a config blob whole, verifying digest and size. */
export async function readConfigBlob(run: CopyRun, info: BlobInfo, what: string): Promise<Buffer> {
  const blob = await run.source.getBlob(info, run.signal);
  const expectedSize = info.size >= 0 ? info.size : blob.size;
  if (expectedSize > MAX_CONFIG_SIZE) throw new CorruptInputError(`${what}: ${expectedSize} bytes is too large for an image config`);
  const chunks: Buffer[] = [];
  let length = 0;
  await pipeline(
    blob.stream,
    new VerifyingStream(what, info.digest, expectedSize),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        length += chunk.length;
        if (length > MAX_CONFIG_SIZE) throw new CorruptInputError(`${what}: more than ${MAX_CONFIG_SIZE} bytes, too large for an image config`);
        chunks.push(chunk);
      }
    },
    { signal: run.signal },
  );
  return Buffer.concat(chunks);
}

/** Writes the config (reusing the destination's copy when it has one) and reports progress. */
export async function writeConfigBlob(run: CopyRun, bytes: Uint8Array, descriptor: Descriptor): Promise<void> {
  const info: BlobInfo = { digest: descriptor.digest, size: descriptor.size, mediaType: descriptor.mediaType };
  const what = `config ${descriptor.digest} for ${run.destName}`;
  const reused = await run.dest.tryReusingBlob(info);
  if (reused) {
    run.progress({ kind: "config", digest: info.digest, bytes: info.size, total: info.size, state: "skipped" });
    return;
  }
  run.progress({ kind: "config", digest: info.digest, bytes: 0, total: info.size, state: "start" });
  const hasher = new DigestingStream();
  const stored = await streamToDestination(
    Readable.from([Buffer.from(bytes)]),
    [hasher],
    (s) => run.dest.putBlob(s, info, { isConfig: true }),
    run.signal,
    what,
  );
  if (stored.digest !== info.digest) throw new DigestMismatchError(`${what} as stored`, info.digest, stored.digest);
  run.progress({ kind: "config", digest: info.digest, bytes: hasher.size, total: info.size, state: "done" });
}

/** Fetches an instance manifest of an index/list and checks it against its entry. */
export async function readInstanceManifest(run: CopyRun, entry: Descriptor): Promise<ManifestBlob> {
  const blob = await run.source.getManifest(entry.digest);
  const what = `manifest ${entry.digest} of ${run.srcName}`;
  const actual: Digest = sha256(blob.bytes);
  if (actual !== entry.digest) throw new DigestMismatchError(what, entry.digest, actual);
  if (blob.bytes.length !== entry.size) throw new DigestMismatchError(what, `size ${entry.size}`, `size ${blob.bytes.length}`);
  return blob;
}
