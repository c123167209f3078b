// Chunked upload, for registries that ask for it (OCI-Chunk-Min-Length on the POST answer): the
// blob goes up as PATCHes with Content-Range, each a buffer of at least the minimum (so each can be
// retried), the last one possibly shorter. A 416 (the registry holds another number of bytes than we
// think, e.g. a chunk whose answer was lost and was sent again) resumes where the registry says it is.
import type { Readable } from "node:stream";
import { NetworkError, UnsupportedError } from "../../src/errors.js";
import type { RegistryClient, RegistryResponse } from "./registry-client.js";

/** Chunks are the registry's minimum, and at least this (fewer round trips for tiny minimums). */
const PREFERRED_CHUNK = 1024 * 1024;
/** A registry may ask for more, but one chunk is held in memory: refuse absurd minimums. */
export const MAX_CHUNK = 64 * 1024 * 1024;
/** 416s in a row for one chunk before giving up (the registry and we disagree and stay so). */
const MAX_RESYNCS = 3;

export interface ChunkedTarget {
  client: RegistryClient;
  scopes: readonly string[];
  label: string;
  signal?: AbortSignal | undefined;
}

/** The chunk size a POST answer asks for, or undefined for one streaming PATCH. */
export function chunkSizeFrom(header: string | string[] | undefined, label = "the registry"): number | undefined {
  const value = Number(Array.isArray(header) ? header[0] : header);
  if (!Number.isSafeInteger(value) || value <= 0) return undefined;
  if (value > MAX_CHUNK) {
    // Smaller chunks than the minimum would be refused: say so instead of sending them.
    throw new UnsupportedError(`${label}: the registry asks for upload chunks of at least ${value} bytes (OCI-Chunk-Min-Length); imgcopy holds at most ${MAX_CHUNK}`);
  }
  return Math.max(value, PREFERRED_CHUNK);
}

/** How many bytes the upload holds, by a Range header ("0-N" or "bytes=0-N"); undefined when there is none. */
export function heldBytes(range: string | string[] | undefined): number | undefined {
  const m = /^\s*(?:bytes=)?0-(\d+)\s*$/.exec(Array.isArray(range) ? (range[0] ?? "") : (range ?? ""));
  return m ? Number(m[1]) + 1 : undefined;
}

/** Sends `body` in chunks of `chunkSize` bytes starting at upload `location`; returns the location to PUT to. */
export async function patchInChunks(t: ChunkedTarget, body: Readable, location: string, chunkSize: number): Promise<string> {
  let offset = 0;
  let pending: Buffer[] = [];
  let pendingSize = 0;
  const send = async (): Promise<void> => {
    let chunk = Buffer.concat(pending, pendingSize);
    pending = [];
    pendingSize = 0;
    for (let resyncs = 0; chunk.length > 0; resyncs++) {
      const res = await t.client.send({
        method: "PATCH",
        url: location,
        headers: {
          "content-type": "application/octet-stream",
          "content-range": `${offset}-${offset + chunk.length - 1}`,
          "content-length": String(chunk.length),
        },
        body: chunk,
        scopes: t.scopes,
        expect: [202, 416],
        what: `${t.label} (chunk at ${offset})`,
        signal: t.signal,
      });
      const next = res.headers.location;
      if (typeof next === "string" && next !== "") location = next;
      if (res.status === 202) {
        await res.body.dump().catch(() => undefined);
        offset += chunk.length;
        return;
      }
      const status = await uploadStatus(t, res, location);
      location = status.location;
      const held = status.held;
      const end = offset + chunk.length;
      if (resyncs >= MAX_RESYNCS || held < offset || held > end) {
        throw new NetworkError(
          `${t.label}: the registry refused the chunk at ${offset} (HTTP 416) and holds ${held} bytes of the upload; ` +
            (held < offset ? `the bytes before ${offset} are gone` : `it still refuses after ${resyncs} resumes`),
        );
      }
      chunk = chunk.subarray(held - offset);
      offset = held;
    }
  };
  for await (const piece of body) {
    const buf = piece as Buffer;
    pending.push(buf);
    pendingSize += buf.length;
    if (pendingSize >= chunkSize) await send();
  }
  if (pendingSize > 0) await send();
  return location;
}

/**
 * The upload's size and location after a 416: its Range header, else the upload's status (GET, 204
 * with Range and Location) as the OCI spec says.
 */
async function uploadStatus(t: ChunkedTarget, refused: RegistryResponse, location: string): Promise<{ held: number; location: string }> {
  await refused.body.dump().catch(() => undefined);
  const said = heldBytes(refused.headers.range);
  if (said !== undefined) return { held: said, location };
  const status = await t.client.send({ method: "GET", url: location, scopes: t.scopes, expect: [204], what: `${t.label} (upload status)`, signal: t.signal });
  await status.body.dump().catch(() => undefined);
  const next = status.headers.location;
  // "0-0" is also what distribution says for an empty upload; no Range at all means nothing held.
  return { held: heldBytes(status.headers.range) ?? 0, location: typeof next === "string" && next !== "" ? next : location };
}
