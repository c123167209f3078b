// One HTTP request/response to a registry over Node's own http/https (keep-alive pools, the
// registry's CA and client cert, stall timeouts, abort), the answer's body as a stream.
// Node's HTTP parser runs in C++ on the socket's own buffers: a 77 MB pull spends ~60 ms less CPU
// than with undici (whose WebAssembly parser copies each socket read into its memory), and no
// module has to be loaded for it (undici: ~25 ms of start-up). Measured, README "Benchmarks".
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { pipeline, type Readable } from "node:stream";

export type Headers = Record<string, string | string[] | undefined>;

/** A response body: the stream, plus throwing it away (readCapped in registry-client.ts reads one). */
export type ResponseBody = Readable & { dump(): Promise<void> };

export interface HttpAnswer {
  statusCode: number;
  headers: Headers;
  body: ResponseBody;
}

export interface HttpRequestOptions {
  method: string;
  headers?: Record<string, string> | undefined;
  /** A Readable is streamed (chunked unless the headers give its length); it is destroyed if the request fails. */
  body?: string | Buffer | Readable | undefined;
  signal?: AbortSignal | undefined;
}

export interface ConnectionOptions {
  /** Trust anchors (replacing Node's bundled roots when given; [] trusts nothing, for verification off). */
  ca?: string[];
  cert?: Buffer | string;
  key?: Buffer | string;
  rejectUnauthorized: boolean;
  /** A request fails when its connection is silent this long: no answer, or no body bytes. */
  stallTimeoutMs: number;
  /** Connections at most per host. */
  connections: number;
}

/** A body longer than this is not read to be thrown away: its connection is closed instead. */
const DUMP_LIMIT = 128 * 1024;

/** The stall codes registry-errors.ts explains. */
export const CONNECT_STALLED = "ERR_CONNECT_STALLED";
export const HEADERS_STALLED = "ERR_HEADERS_STALLED";
export const BODY_STALLED = "ERR_BODY_STALLED";

/** A connection not made within this long fails (a host that drops packets; as undici's default). */
const CONNECT_TIMEOUT_MS = 10_000;

interface PreparedRequest {
  method: string;
  headers: OutgoingHttpHeaders;
  body: string | Buffer | Readable | undefined;
  streamed: boolean;
  signal: AbortSignal | undefined;
}

/** Keep-alive connection pools (http and https) for one registry and the hosts it redirects to. */
export class HttpConnections {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  constructor(private readonly options: ConnectionOptions) {
    this.http = new HttpAgent({ keepAlive: true, maxSockets: options.connections });
    this.https = new HttpsAgent({
      keepAlive: true,
      maxSockets: options.connections,
      rejectUnauthorized: options.rejectUnauthorized,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.cert ? { cert: options.cert } : {}),
      ...(options.key ? { key: options.key } : {}),
    });
  }

  /** Sends one request; resolves once the answer's headers are in. */
  send(url: URL, opts: HttpRequestOptions): Promise<HttpAnswer> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (url.protocol !== "https:" && url.protocol !== "http:") return Promise.reject(new Error(`${url.href}: not an http or https URL`));
    const headers: OutgoingHttpHeaders = { ...opts.headers };
    const body = opts.body;
    const streamed = body !== undefined && typeof body !== "string" && !Buffer.isBuffer(body);
    if (!streamed && !hasHeader(headers, "content-length") && (body !== undefined || !["GET", "HEAD"].includes(opts.method))) {
      headers["content-length"] = body === undefined ? 0 : Buffer.byteLength(body);
    }
    return this.exchange(url, { method: opts.method, headers, body, streamed, signal }, true);
  }

  private exchange(url: URL, opts: PreparedRequest, retryStale: boolean): Promise<HttpAnswer> {
    const { signal, body } = opts;
    const https = url.protocol === "https:";
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, { method: opts.method, headers: opts.headers, agent: https ? this.https : this.http });
      let res: IncomingMessage | undefined;
      let settled = false;
      let connectTimer: NodeJS.Timeout | undefined;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        release();
        // A kept-alive connection the server closed (FIN: "socket hang up", no syscall) as we picked
        // it: the request never reached it, and a replayable one goes again once, on a new connection
        // (Node's advice for reusedSocket). A reset (RST) is a network failure, for --retry-times.
        const { code, syscall } = err as NodeJS.ErrnoException;
        if (retryStale && req.reusedSocket && !opts.streamed && !signal?.aborted && code === "ECONNRESET" && syscall === undefined) {
          resolve(this.exchange(url, opts, false));
          return;
        }
        reject(err);
      };
      const onAbort = (): void => {
        const reason = abortReason(signal as AbortSignal);
        if (res) res.destroy(reason);
        req.destroy(reason);
        fail(reason);
      };
      const release = (): void => {
        clearTimeout(connectTimer);
        signal?.removeEventListener("abort", onAbort);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      // A socket that fails after the answer came also reports to the request: the body reports it.
      req.on("error", fail);
      req.once("socket", (socket) => {
        if (!socket.connecting) return;
        const limit = Math.min(CONNECT_TIMEOUT_MS, this.options.stallTimeoutMs);
        connectTimer = setTimeout(() => req.destroy(Object.assign(new Error(`connecting took longer than ${limit} ms`), { code: CONNECT_STALLED })), limit);
        socket.once("connect", () => clearTimeout(connectTimer));
      });
      const stallWatch = (): void => {
        const ms = this.options.stallTimeoutMs;
        req.setTimeout(ms, () => {
          // A body whose reader holds back (bytes waiting unread, or a 'data' reader paused by a full
          // pipe) is silent on our side, not the registry's: watched again from now (as undici's
          // body timeout). An async iterator waits with flowing false too, but with nothing unread.
          if (res && (res.readableLength > 0 || (res.readableFlowing === false && res.listenerCount("data") > 0))) {
            req.socket?.setTimeout(ms);
            return;
          }
          const stalled = res
            ? Object.assign(new Error(`the body stalled for ${ms} ms`), { code: BODY_STALLED })
            : Object.assign(new Error(`no answer within ${ms} ms`), { code: HEADERS_STALLED });
          if (res) res.destroy(stalled);
          req.destroy(stalled);
        });
      };
      req.on("response", (answer: IncomingMessage) => {
        res = answer;
        if (settled) {
          answer.destroy();
          return;
        }
        settled = true;
        clearTimeout(connectTimer);
        answer.once("close", release);
        resolve({ statusCode: answer.statusCode ?? 0, headers: headersOf(answer), body: asBody(answer) });
      });
      if (opts.streamed) {
        // The silence timer starts once the body is sent: a peer that stops reading an upload is the caller's watchdog's to judge.
        req.once("finish", stallWatch);
        pipeline(body as Readable, req, (err) => {
          if (err) req.destroy(err);
        });
      } else {
        stallWatch();
        req.end(body);
      }
    });
  }

  /**
   * Idle connections close now; those in use close once their answer has been read, and no longer
   * keep the process alive meanwhile (an answer nobody reads must not stop the command from exiting).
   */
  close(): void {
    for (const agent of [this.http, this.https]) {
      agent.keepSocketAlive = () => false;
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
      for (const sockets of Object.values(agent.sockets)) for (const socket of sockets ?? []) socket.unref();
    }
  }
}

function hasHeader(headers: OutgoingHttpHeaders, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** Lower-case names; a header sent more than once (WWW-Authenticate) as an array, as it came. */
function headersOf(res: IncomingMessage): Headers {
  const out: Headers = {};
  for (const [name, values] of Object.entries(res.headersDistinct)) {
    if (values) out[name] = values.length === 1 ? values[0] : values;
  }
  return out;
}

function asBody(res: IncomingMessage): ResponseBody {
  return Object.assign(res, {
    dump: (): Promise<void> =>
      new Promise<void>((resolve) => {
        // Read to its end even when it has all arrived: only then does the connection go back to the pool.
        if (res.readableEnded || res.destroyed) {
          resolve();
          return;
        }
        let seen = 0;
        res.on("data", (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > DUMP_LIMIT) res.destroy();
        });
        res.once("end", resolve).once("close", resolve).once("error", () => resolve());
        res.resume();
      }),
  });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("This operation was aborted", "AbortError");
}
