// Chunked upload, for registries that ask for it (OCI-Chunk-Min-Length on the POST answer): the
// blob goes up as PATCHes with Content-Range, each a buffer of at least the minimum (so each can be
// retried), the last one possibly shorter.
import type { Readable } from "node:stream";
import type { RegistryClient } from "./registry-client.js";

/** Chunks are the registry's minimum, and at least this (fewer round trips for tiny minimums). */
const PREFERRED_CHUNK = 1024 * 1024;
/** A registry may ask for more, but one chunk is held in memory: refuse absurd minimums. */
export const MAX_CHUNK = 64 * 1024 * 1024;

export interface ChunkedTarget {
  client: RegistryClient;
  scopes: readonly string[];
  label: string;
  signal?: AbortSignal | undefined;
}

/** The chunk size a POST answer asks for, or undefined for one streaming PATCH. */
export function chunkSizeFrom(header: string | string[] | undefined): number | undefined {
  const value = Number(Array.isArray(header) ? header[0] : header);
  if (!Number.isSafeInteger(value) || value <= 0) return undefined;
  return Math.min(MAX_CHUNK, Math.max(value, PREFERRED_CHUNK));
}

/** Sends `body` in chunks of `chunkSize` bytes starting at upload `location`; returns the location to PUT to. */
export async function patchInChunks(t: ChunkedTarget, body: Readable, location: string, chunkSize: number): Promise<string> {
  let offset = 0;
  let pending: Buffer[] = [];
  let pendingSize = 0;
  const send = async (): Promise<void> => {
    const chunk = Buffer.concat(pending, pendingSize);
    pending = [];
    pendingSize = 0;
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
      expect: [202],
      what: `${t.label} (chunk at ${offset})`,
      signal: t.signal,
    });
    await res.body.dump().catch(() => undefined);
    const next = res.headers.location;
    if (typeof next === "string" && next !== "") location = next;
    offset += chunk.length;
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
