// One registry host: its connection pools (keep-alive, CA and client cert, timeouts), the /v2/
// ping that picks https or (when allowed) http, the authenticator, redirects and retries.
import { rootCertificates } from "node:tls";
import type { Readable } from "node:stream";
import { isImgcopyError } from "../../src/errors.js";
import type { SystemContext } from "../../src/types.js";
import { findCredentials, type RegistryCredentials } from "./auth/credentials.js";
import { RegistryAuthenticator, type TokenRequester } from "./auth/registry-authenticator.js";
import { HttpConnections, type Headers, type ResponseBody } from "./http-exchange.js";
import { errorForStatus, explainNetworkError, isRetryable, RETRYABLE_STATUSES } from "./registry-errors.js";
import { backoffMs, retryPolicyFrom, sleep, THROTTLE_ATTEMPTS, throttleDelayMs, type RetryPolicy } from "./retry-policy.js";
import { registryTls, type RegistryTls } from "./tls/tls-config.js";

export type { Headers } from "./http-exchange.js";

/** A stalled connection fails after this long without headers or body bytes (skopeo#2309). */
export const DEFAULT_STALL_TIMEOUT_MS = 120_000;
const MAX_REDIRECTS = 5;
const ERROR_BODY_CAP = 64 * 1024;

export interface RegistryResponse {
  status: number;
  headers: Headers;
  body: ResponseBody;
  /** The URL that answered (after redirects). */
  url: URL;
}

export interface RegistryRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** A path on the registry ("/v2/..."), or an absolute URL (a Location header, a foreign layer). */
  url: string | URL;
  headers?: Record<string, string>;
  /** A streamed body cannot be replayed: such a request is sent once and its failures go to the caller. */
  body?: string | Buffer | Readable;
  /** Token scopes ("repository:REPO:pull"); [] for none. */
  scopes: readonly string[];
  /** Statuses the caller handles itself; others become errors. */
  expect: readonly number[];
  /** Names the operation in errors ("docker://h/r:t: manifest"). */
  what: string;
  signal?: AbortSignal | undefined;
  /** Follow redirects (blob GETs), dropping Authorization on another origin. */
  followRedirects?: boolean;
  /** Never send credentials (foreign-layer URLs). */
  anonymous?: boolean;
}

export interface ConnectOptions {
  /** HOST[:PORT] as the reference names it ("docker.io"): what credentials and cert dirs are looked up by. */
  registry: string;
  /** HOST[:PORT] requests go to (a mirror, registry-1.docker.io). */
  endpoint: string;
  /** The repository, for credential lookup. */
  repository: string;
  /** registries.conf says insecure for this endpoint. */
  insecure: boolean;
  /** Use no credentials from the command line (a mirror: flags' credentials are for the primary only). */
  isMirror: boolean;
  what: string;
}

export class RegistryClient {
  private constructor(
    /** https://HOST or http://HOST. */
    readonly base: URL,
    readonly endpoint: string,
    private readonly connections: HttpConnections,
    private readonly authenticator: RegistryAuthenticator,
    readonly retry: RetryPolicy,
    /** How long a connection may send or take nothing before it counts as stalled. */
    readonly stallTimeoutMs: number,
  ) {}

  /** Makes the connection pools, pings /v2/ (https, then http when allowed) and hands its challenge to the authenticator. */
  static async connect(opts: ConnectOptions, ctx: SystemContext): Promise<RegistryClient> {
    const tls = await registryTls(opts.endpoint, ctx, opts.insecure);
    const stall = ctx.dockerStallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    const connections = new HttpConnections({
      ...trustAnchors(tls),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      rejectUnauthorized: tls.verify,
      stallTimeoutMs: stall,
      connections: 16,
    });
    const flagsCtx = opts.isMirror ? { ...ctx, dockerAuth: undefined, dockerBearerToken: undefined } : ctx;
    let credentials: RegistryCredentials | undefined;
    try {
      credentials = await findCredentials(opts.registry, opts.repository, flagsCtx);
      const ping = await pingEndpoint(connections, opts.endpoint, tls.allowPlainHttp, opts.what, ctx.signal);
      const authenticator = new RegistryAuthenticator({ registry: opts.registry, credentials, request: tokenRequester(connections, ctx.signal) });
      authenticator.noteChallenge(ping.status, ping.headers["www-authenticate"]);
      return new RegistryClient(ping.base, opts.endpoint, connections, authenticator, retryPolicyFrom(ctx), stall);
    } catch (err) {
      connections.close();
      throw err;
    }
  }

  /** The absolute URL of a registry path or a Location header (which may be relative). */
  resolve(url: string | URL): URL {
    return new URL(url, this.base);
  }

  /**
   * Sends `req`: authorization for its scopes, one retry after a 401 with a new challenge, 429/503
   * retried after Retry-After, network errors and 5xx retried per --retry-times when the body can be replayed.
   */
  async send(req: RegistryRequest): Promise<RegistryResponse> {
    const replayable = !(req.body && typeof req.body === "object" && !Buffer.isBuffer(req.body));
    let throttled = 0;
    let failed = 0;
    let reauthorized = false;
    for (;;) {
      let res: RegistryResponse;
      try {
        res = await this.sendFollowing(req);
      } catch (err) {
        const explained = explainNetworkError(err, req.what, this.endpoint);
        if (replayable && isRetryable(explained) && failed < this.retry.retryTimes) {
          await sleep(backoffMs(this.retry.retryDelayMs, failed++), req.signal);
          continue;
        }
        throw explained;
      }
      if (req.expect.includes(res.status)) return res;
      if (res.status === 401 && !reauthorized && !req.anonymous && replayable) {
        const text = await readCapped(res.body, ERROR_BODY_CAP).catch(() => "");
        reauthorized = true;
        if (await this.authenticator.handleUnauthorized(res.headers["www-authenticate"], req.scopes, req.signal)) continue;
        throw errorForStatus(req.what, this.endpoint, res.status, text);
      }
      if ((res.status === 429 || res.status === 503) && replayable && throttled < THROTTLE_ATTEMPTS - 1) {
        await res.body.dump().catch(() => undefined);
        await sleep(throttleDelayMs(res.headers["retry-after"], throttled++), req.signal);
        continue;
      }
      if (RETRYABLE_STATUSES.has(res.status) && res.status !== 429 && replayable && failed < this.retry.retryTimes) {
        await res.body.dump().catch(() => undefined);
        await sleep(backoffMs(this.retry.retryDelayMs, failed++), req.signal);
        continue;
      }
      throw await this.errorFrom(res, req.what);
    }
  }

  /** The error for an unexpected answer, with the registry's error codes. */
  async errorFrom(res: RegistryResponse, what: string): Promise<Error> {
    const text = await readCapped(res.body, ERROR_BODY_CAP).catch(() => "");
    return errorForStatus(what, this.endpoint, res.status, text);
  }

  private async sendFollowing(req: RegistryRequest): Promise<RegistryResponse> {
    let url = this.resolve(req.url);
    for (let hop = 0; ; hop++) {
      const sameOrigin = url.origin === this.base.origin;
      const headers: Record<string, string> = { ...req.headers };
      if (sameOrigin && !req.anonymous) {
        const authorization = await this.authenticator.authorization(req.scopes, req.signal);
        if (authorization) headers.authorization = authorization;
      }
      const res = await this.connections.send(url, {
        method: req.method,
        headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      const location = res.headers.location;
      const redirect = [301, 302, 303, 307, 308].includes(res.statusCode) && typeof location === "string";
      if (!redirect || !req.followRedirects || hop >= MAX_REDIRECTS) {
        return { status: res.statusCode, headers: res.headers, body: res.body, url };
      }
      await res.body.dump().catch(() => undefined);
      url = new URL(location, url);
    }
  }

  async close(): Promise<void> {
    this.connections.close();
  }
}

/**
 * The CAs a connection trusts: Node's bundled roots (its default), plus the cert dir's *.crt files.
 * With verification off nothing is checked against them, so none are given: otherwise Node parses
 * its ~140 bundled roots for the connection's context (~35 ms of CPU per run, measured on a
 * --tls-verify=false pull whose https ping falls back to http).
 */
function trustAnchors(tls: RegistryTls): { ca?: string[] } {
  if (!tls.verify) return { ca: [] };
  return tls.ca?.length ? { ca: [...rootCertificates, ...tls.ca.map((c) => c.toString())] } : {};
}

/** GET /v2/ over https, then over plain http when TLS verification is off; the answering base URL and its challenge. */
async function pingEndpoint(
  connections: HttpConnections,
  endpoint: string,
  allowPlainHttp: boolean,
  what: string,
  signal: AbortSignal | undefined,
): Promise<{ base: URL; status: number; headers: Headers }> {
  let firstError: unknown;
  for (const scheme of allowPlainHttp ? ["https", "http"] : ["https"]) {
    const base = new URL(`${scheme}://${endpoint}/`);
    try {
      const res = await connections.send(new URL("/v2/", base), { method: "GET", signal });
      await res.body.dump().catch(() => undefined);
      if (res.statusCode === 200 || res.statusCode === 401) return { base, status: res.statusCode, headers: res.headers };
      throw errorForStatus(`${what}: pinging ${base.href}v2/`, endpoint, res.statusCode, "");
    } catch (err) {
      firstError ??= isImgcopyError(err) ? err : explainNetworkError(err, `${what}: pinging ${base.href}v2/`, endpoint);
    }
  }
  throw firstError;
}

/** The authenticator's way to reach a token realm: through this registry's connections (same CAs). */
function tokenRequester(connections: HttpConnections, signal: AbortSignal | undefined): TokenRequester {
  return async (url, init) => {
    const res = await connections.send(url, { method: init.method, headers: init.headers, body: init.body, signal });
    return { status: res.statusCode, headers: res.headers, text: await readCapped(res.body, 1024 * 1024) };
  };
}

/** The body as text, at most `cap` bytes (the rest is discarded). */
export async function readCapped(body: Readable, cap: number): Promise<string> {
  return (await readCappedBytes(body, cap)).toString("utf8");
}

/** The body's first `cap` bytes; the rest is read and discarded. */
export async function readCappedBytes(body: Readable, cap: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    if (size < cap) chunks.push(buf.subarray(0, cap - size));
    size += buf.length;
  }
  return Buffer.concat(chunks);
}
