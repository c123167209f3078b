// Reading a blob from a registry as a stream: redirects to blob storage followed, a broken body
// resumed with Range (only a 206 with the matching Content-Range is accepted, podman#18142).
import { Readable } from "node:stream";
import { NetworkError } from "../../src/errors.js";
import type { BlobStream } from "../../src/types.js";
import type { RegistryClient, RegistryResponse } from "./registry-client.js";
import { explainNetworkError, isRetryable } from "./registry-errors.js";
import { backoffMs, sleep } from "./retry-policy.js";

/** Resumes allowed in a row without a byte of progress in between. */
const RESUMES_WITHOUT_PROGRESS = 3;

export interface BlobLocation {
  client: RegistryClient;
  /** The URL to GET (registry path or absolute foreign URL). */
  url: string | URL;
  scopes: readonly string[];
  /** Foreign layers: fetched without credentials. */
  anonymous: boolean;
  /** Size the manifest gives (-1 unknown). */
  size: number;
  what: string;
}

/** GETs the blob and returns its body as a stream that resumes with Range when the connection breaks. */
export async function openBlob(loc: BlobLocation, signal: AbortSignal | undefined): Promise<BlobStream> {
  const get = (range: number | undefined): Promise<RegistryResponse> =>
    loc.client.send({
      method: "GET",
      url: loc.url,
      headers: range === undefined ? {} : { range: `bytes=${range}-` },
      scopes: loc.scopes,
      expect: range === undefined ? [200] : [200, 206],
      what: loc.what,
      signal,
      followRedirects: true,
      anonymous: loc.anonymous,
    });
  const first = await get(undefined);
  const length = Number(first.headers["content-length"]);
  const size = loc.size >= 0 ? loc.size : Number.isSafeInteger(length) ? length : -1;
  const stream = Readable.from(resumingBody(first, size, get, loc, signal), { objectMode: false });
  return { stream, size };
}

async function* resumingBody(
  first: RegistryResponse,
  size: number,
  get: (range: number | undefined) => Promise<RegistryResponse>,
  loc: BlobLocation,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  let res = first;
  let offset = 0;
  let stuck = 0;
  try {
    for (;;) {
      const before = offset;
      try {
        for await (const chunk of res.body) {
          offset += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
        if (size < 0 || offset >= size) return;
        throw new NetworkError(`${loc.what}: the body ended after ${offset} of ${size} bytes`);
      } catch (err) {
        const explained = explainNetworkError(err, loc.what, loc.client.endpoint);
        if (size < 0 || offset >= size || !isRetryable(explained)) throw explained;
        stuck = offset > before ? 0 : stuck + 1;
        if (stuck >= RESUMES_WITHOUT_PROGRESS) throw explained;
      }
      res.body.destroy();
      await sleep(backoffMs(100, stuck), signal);
      res = await reopenAt(get, offset, size, loc.what);
    }
  } finally {
    res.body.destroy();
  }
}

/** Re-requests from `offset`; anything but a 206 starting there is refused (a 200 would restart the blob). */
async function reopenAt(get: (range: number) => Promise<RegistryResponse>, offset: number, size: number, what: string): Promise<RegistryResponse> {
  const res = await get(offset);
  const range = res.headers["content-range"];
  const m = typeof range === "string" ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range.trim()) : null;
  if (res.status !== 206 || !m || Number(m[1]) !== offset || (m[3] !== "*" && Number(m[3]) !== size)) {
    await res.body.dump().catch(() => undefined);
    throw new NetworkError(
      `${what}: the connection broke after ${offset} bytes and the server cannot resume it (answered HTTP ${res.status}${typeof range === "string" ? `, Content-Range ${range}` : " without Content-Range"} to Range: bytes=${offset}-)`,
      { retryable: true },
    );
  }
  return res;
}
