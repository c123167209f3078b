// The registry auth flow: learns the registry's challenges from the /v2/ ping, then answers each
// request with basic credentials or a bearer token fetched from the realm (cached per scope set
// until it expires; OAuth2 refresh tokens for identity tokens; one retry on insufficient_scope).
import { AbortedError, AuthError, NetworkError, isImgcopyError } from "../../../src/errors.js";
import { parseWwwAuthenticate, type AuthChallenge } from "./challenge.js";
import type { RegistryCredentials } from "./credentials.js";

export interface TokenRequester {
  (
    url: URL,
    init: { method: "GET" | "POST"; headers: Record<string, string>; body?: string },
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>;
}

/** The OAuth2 client id the token server sees for refresh-token grants. */
export const TOKEN_CLIENT_ID = "imgcopy";
/** Tokens without expires_in, or with less, live this long (the distribution token spec's floor). */
const MIN_TOKEN_SECONDS = 60;
// Fetch a new token a little before the old one runs out, so a request never carries a dead token.
const EXPIRY_MARGIN_MS = 5_000;

interface CachedToken {
  token: string;
  expiresAt: number;
}

export class RegistryAuthenticator {
  private readonly registry: string;
  private readonly credentials: RegistryCredentials | undefined;
  private readonly request: TokenRequester;
  private challenges: AuthChallenge[] | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Scopes a registry asked for (insufficient_scope) beyond those a request set named. */
  private readonly extraScopes = new Map<string, string[]>();

  constructor(opts: { registry: string; credentials: RegistryCredentials | undefined; request: TokenRequester }) {
    this.registry = opts.registry;
    this.credentials = opts.credentials;
    this.request = opts.request;
  }

  /** Learn the registry's challenges from the GET /v2/ ping answer (401 with WWW-Authenticate, or 200). */
  noteChallenge(status: number, wwwAuthenticate: string | string[] | undefined): void {
    this.challenges = status === 401 ? parseWwwAuthenticate(wwwAuthenticate) : [];
  }

  /** Authorization header value for a request needing these scopes ("repository:team/web:pull,push"), or undefined. */
  async authorization(scopes: readonly string[], signal?: AbortSignal): Promise<string | undefined> {
    if (this.credentials?.bearerToken !== undefined) return `Bearer ${this.credentials.bearerToken}`;
    const challenge = this.chosenChallenge();
    if (challenge === undefined) return undefined;
    if (challenge.scheme === "basic") return this.basicHeader();
    const wanted = this.scopesFor(scopes);
    const key = wanted.join(" ");
    const cached = this.tokens.get(key);
    if (cached !== undefined && cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return `Bearer ${cached.token}`;
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      // Concurrent layer uploads of one repository share one token request.
      pending = this.fetchToken(challenge, wanted, signal).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return `Bearer ${await pending}`;
  }

  /** After a 401: parse its challenge (insufficient_scope → one new token with the named scope). true = retry once with authorization(). */
  async handleUnauthorized(wwwAuthenticate: string | string[] | undefined, scopes: readonly string[], signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) throw new AbortedError(`${this.registry}: aborted`, { cause: signal.reason });
    if (this.credentials?.bearerToken !== undefined) return false; // a given token is used as it is
    const before = this.chosenChallenge();
    const fresh = parseWwwAuthenticate(wwwAuthenticate);
    if (fresh.length > 0) this.challenges = fresh;
    const now = this.chosenChallenge();
    if (now === undefined) return false;
    if (now.scheme === "basic") return before?.scheme !== "basic" && this.basicHeader() !== undefined;
    const key = this.scopesFor(scopes).join(" ");
    const hadToken = this.tokens.delete(key);
    const asked = now.params.error === "insufficient_scope" ? (now.params.scope ?? "").split(" ").filter((s) => s !== "") : [];
    const had = this.scopesFor(scopes);
    const missing = asked.filter((s) => !coversScope(had, s));
    if (missing.length > 0) {
      this.extraScopes.set(scopeKey(scopes), [...(this.extraScopes.get(scopeKey(scopes)) ?? []), ...missing]);
      await this.authorization(scopes, signal);
      return true;
    }
    // The token already carried every scope asked for: the account lacks the access; asking again cannot help.
    if (now.params.error === "insufficient_scope") throw this.deniedError(asked.length > 0 ? asked : this.scopesFor(scopes));
    // A token that just stopped working (revoked, clock skew) or a challenge we had not seen: one fresh try.
    return hadToken || before?.scheme !== "bearer";
  }

  /** "registry H denied push on team/web to user bob": the token server gave a token without the access. */
  private deniedError(scopes: readonly string[]): AuthError {
    const wanted = scopes
      .map((scope) => /^repository:(.+):([^:]+)$/.exec(scope))
      .map((m, i) => (m ? `${m[2]!.split(",").sort().join(",")} on ${m[1]}` : scopes[i]!)) // actions sorted: the registry's order is random
      .join(", ");
    const user = this.credentials?.username;
    const who = user !== undefined && user !== "" ? `user ${user}` : this.credentials === undefined ? "anonymous requests" : "these credentials";
    const hint = this.credentials === undefined ? `; log in (imgcopy login ${this.registry}) or pass --creds` : "";
    return new AuthError(`registry ${this.registry} denied ${wanted || "access"} to ${who} (insufficient_scope)${hint}`);
  }

  private chosenChallenge(): AuthChallenge | undefined {
    const list = this.challenges ?? [];
    return list.find((c) => c.scheme === "bearer" && c.params.realm) ?? list.find((c) => c.scheme === "basic");
  }

  private basicHeader(): string | undefined {
    const c = this.credentials;
    if (c?.username === undefined || c.password === undefined) return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
  }

  private scopesFor(scopes: readonly string[]): string[] {
    return [...new Set([...scopes, ...(this.extraScopes.get(scopeKey(scopes)) ?? [])])].sort();
  }

  private async fetchToken(challenge: AuthChallenge, scopes: string[], signal?: AbortSignal): Promise<string> {
    if (signal?.aborted) throw new AbortedError(`${this.registry}: aborted`, { cause: signal.reason });
    const realm = challenge.params.realm!;
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new AuthError(`registry ${this.registry} names a token realm that is not a URL: ${realm}`);
    }
    const service = challenge.params.service;
    const creds = this.credentials;
    let answer;
    if (creds?.identityToken !== undefined) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, client_id: TOKEN_CLIENT_ID });
      if (service !== undefined) form.set("service", service);
      for (const s of scopes) form.append("scope", s);
      answer = await this.call(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() });
    } else {
      if (service !== undefined) url.searchParams.set("service", service);
      for (const s of scopes) url.searchParams.append("scope", s);
      const headers: Record<string, string> = {};
      const basic = this.basicHeader();
      if (basic !== undefined) {
        url.searchParams.set("account", creds!.username!);
        headers.authorization = basic;
      }
      answer = await this.call(url, { method: "GET", headers });
    }
    if (signal?.aborted) throw new AbortedError(`${this.registry}: aborted`, { cause: signal.reason });
    return this.readToken(answer, url, scopes);
  }

  private async call(url: URL, init: { method: "GET" | "POST"; headers: Record<string, string>; body?: string }): ReturnType<TokenRequester> {
    try {
      return await this.request(url, init);
    } catch (err) {
      // Ours (already one line) and aborts (Ctrl-C) pass as they are: an abort is not a retryable network failure.
      if (isImgcopyError(err) || (err as Error)?.name === "AbortError") throw err;
      throw new NetworkError(`registry ${this.registry}: token server ${url.origin}: ${(err as Error).message}`, { cause: err });
    }
  }

  private readToken(answer: Awaited<ReturnType<TokenRequester>>, url: URL, scopes: string[]): string {
    const where = `registry ${this.registry}: token server ${url.origin}${url.pathname}`;
    if (answer.status === 401 || answer.status === 403) {
      const who = this.credentials?.username !== undefined ? ` for user ${this.credentials.username}` : this.credentials ? "" : " (anonymous)";
      throw new AuthError(`login to ${this.registry} refused${who}: ${tokenError(answer.text) ?? `HTTP ${answer.status}`}`);
    }
    if (answer.status === 429 || answer.status >= 500) {
      throw new NetworkError(`${where} answered HTTP ${answer.status}`, { retryable: true });
    }
    if (answer.status < 200 || answer.status > 299) throw new AuthError(`${where} answered HTTP ${answer.status}${detail(answer.text)}`);
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(answer.text) as typeof body;
    } catch {
      throw new AuthError(`${where} answered something that is not JSON`);
    }
    const token = typeof body.token === "string" && body.token !== "" ? body.token : body.access_token;
    if (typeof token !== "string" || token === "") throw new AuthError(`${where} answered no token`);
    const seconds = typeof body.expires_in === "number" && body.expires_in > MIN_TOKEN_SECONDS ? body.expires_in : MIN_TOKEN_SECONDS;
    this.tokens.set(scopes.join(" "), { token, expiresAt: Date.now() + seconds * 1000 });
    return token;
  }
}

/**
 * Whether the scopes a token was asked for grant `asked` ("repository:team/web:push,pull"). Actions
 * are a set: distribution 2.8 names them in Go map order, so "push,pull" is the "pull,push" we asked for.
 */
function coversScope(had: readonly string[], asked: string): boolean {
  const want = parseScope(asked);
  if (want === undefined) return had.includes(asked);
  const granted = new Set<string>();
  for (const h of had) {
    const p = parseScope(h);
    if (p?.resource === want.resource) for (const a of p.actions) granted.add(a);
  }
  return want.actions.every((a) => granted.has(a));
}

/** "TYPE:NAME:ACTIONS" → the resource ("TYPE:NAME") and its actions. */
function parseScope(scope: string): { resource: string; actions: string[] } | undefined {
  const m = /^([^:]+:.+):([^:]*)$/.exec(scope);
  return m ? { resource: m[1]!, actions: m[2]!.split(",").filter((a) => a !== "") } : undefined;
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(" ");
}

/** The error text of a token server's JSON answer ({"details"}, {"errors":[{"message"}]}, OAuth2 {"error_description"}). */
function tokenError(text: string): string | undefined {
  try {
    const j = JSON.parse(text) as { details?: unknown; error_description?: unknown; error?: unknown; errors?: { code?: unknown; message?: unknown }[] };
    const first = j.errors?.[0];
    if (first && typeof first.message === "string") return typeof first.code === "string" ? `${first.code}: ${first.message}` : first.message;
    for (const v of [j.details, j.error_description, j.error]) if (typeof v === "string" && v !== "") return v;
  } catch {
    // not JSON: fall through
  }
  const line = text.trim().split("\n")[0];
  return line ? line.slice(0, 200) : undefined;
}

function detail(text: string): string {
  const t = tokenError(text);
  return t ? `: ${t}` : "";
}
