// What a registry's failure means for the user: one line naming the reference, the HTTP status and
// the registry's error code, as the error class of its kind (auth, not found, network, unsupported).
import {
  AuthError,
  CorruptInputError,
  NetworkError,
  NotFoundError,
  UnsupportedError,
  isImgcopyError,
  type ImgcopyError,
} from "../../src/errors.js";
import { BODY_STALLED, CONNECT_STALLED, HEADERS_STALLED } from "./http-exchange.js";

/** Statuses a later attempt may get past: throttling, gateway trouble, overload. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

// Node's names (and http-exchange.ts's) for a connection that failed or went quiet.
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed while sending",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EAI_AGAIN: "name lookup failed",
  ENOTFOUND: "host not found",
  [CONNECT_STALLED]: "connecting timed out",
  [HEADERS_STALLED]: "no answer within the timeout (stalled connection)",
  [BODY_STALLED]: "the body stalled for longer than the timeout",
  HPE_INVALID_CONSTANT: "not an HTTP answer",
  ERR_HTTP_CONTENT_LENGTH_MISMATCH: "body length does not match Content-Length",
  ERR_STREAM_PREMATURE_CLOSE: "connection closed before the end of the body",
};

export interface RegistryErrorEntry {
  code: string;
  message: string;
}

/** Reads `{"errors":[{code,message}]}` from an error body; [] when it is something else. */
export function parseErrorBody(text: string): RegistryErrorEntry[] {
  try {
    const parsed = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) return [];
    return parsed.errors
      .filter((e): e is Record<string, unknown> => typeof e === "object" && e !== null)
      .map((e) => ({ code: typeof e.code === "string" ? e.code : "", message: typeof e.message === "string" ? e.message : "" }));
  } catch {
    return [];
  }
}

/** The error for an unexpected HTTP answer; `bodyText` is the (capped) body the registry sent. */
export function errorForStatus(what: string, host: string, status: number, bodyText: string): ImgcopyError {
  const entries = parseErrorBody(bodyText);
  const codes = entries.map((e) => [e.code, e.message].filter(Boolean).join(": ")).filter(Boolean);
  const plain = bodyText.trim().split("\n")[0]?.slice(0, 200) ?? "";
  const detail = codes.length > 0 ? codes.join("; ") : plain;
  // distribution answers 405 UNSUPPORTED to writes in read-only (maintenance) mode.
  const hint = status === 405 ? "; the registry refuses writes here (read-only?)" : "";
  const message = `${what}: registry ${host} answered HTTP ${status}${detail ? ` (${detail})` : ""}${hint}`;
  if (status === 401 || status === 403) return new AuthError(message);
  if (status === 404) return new NotFoundError(message);
  if (RETRYABLE_STATUSES.has(status)) return new NetworkError(message, { retryable: true });
  if (status === 405 || entries.some((e) => e.code === "UNSUPPORTED")) return new UnsupportedError(message);
  if (status === 400 && entries.some((e) => e.code.endsWith("_INVALID") || e.code === "DIGEST_INVALID")) return new CorruptInputError(message);
  return new UnsupportedError(message);
}

/** Our errors pass; a socket or timeout failure becomes a retryable NetworkError naming the host. */
export function explainNetworkError(err: unknown, what: string, host: string): unknown {
  if (isImgcopyError(err)) return err;
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  if (e?.name === "AbortError" || e?.code === "ABORT_ERR") return err;
  const code = e?.code ?? e?.cause?.code;
  const tlsText = `${code ?? ""} ${e?.message ?? ""}`;
  if (/^ERR_(TLS|SSL)_|^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|CERT_|ERR_OSSL)/.test(code ?? "") || /certificate|SSL routines/i.test(tlsText)) {
    // Node's https reports OpenSSL's failures as EPROTO with "...:SSL routines:FUNCTION:REASON:file:line".
    const openSslReason = /SSL routines:[^:]*:([^:\n]+)/.exec(e?.message ?? "")?.[1];
    const reason = code && /^ERR_SSL_/.test(code)
      ? code.slice("ERR_SSL_".length).toLowerCase().replace(/_/g, " ")
      : (openSslReason ?? (e?.message ?? code ?? "").split(":")[0]);
    const hint = /wrong version number/i.test(tlsText) ? "it may speak plain HTTP: use --tls-verify=false" : "give its CA with --cert-dir, or use --tls-verify=false";
    return new NetworkError(`${what}: TLS with ${host} failed: ${reason} (${hint})`, { cause: err, retryable: false });
  }
  // Node's HTTP client reports a body cut short by the peer as ECONNRESET "aborted".
  const cutShort = code === "ECONNRESET" && e?.message === "aborted";
  const reason = cutShort
    ? `connection closed before the end of the body (${code})`
    : code && NETWORK_CODES[code] ? `${NETWORK_CODES[code]} (${code})` : (e?.message ?? String(err));
  return new NetworkError(`${what}: ${host}: ${reason}`, { cause: err, retryable: true });
}

/** True for an error a later attempt may get past. */
export function isRetryable(err: unknown): boolean {
  if (!isImgcopyError(err)) return false;
  return err.code === "ENETWORK" && (err as NetworkError).retryable;
}
