// When and how long to wait before trying a registry request again (Retry-After, backoff).

/** Throttled answers (429, 503) are retried this often whatever --retry-times says, as containers/image does for 429. */
export const THROTTLE_ATTEMPTS = 5;
const THROTTLE_FIRST_DELAY_MS = 2000;
const MAX_DELAY_MS = 60_000;

export interface RetryPolicy {
  /** Extra attempts for network errors and 5xx (--retry-times). */
  retryTimes: number;
  /** First delay; doubled after each attempt (--retry-delay). */
  retryDelayMs: number;
}

export function retryPolicyFrom(ctx: { retryTimes?: number; retryDelayMs?: number }): RetryPolicy {
  return { retryTimes: ctx.retryTimes ?? 0, retryDelayMs: ctx.retryDelayMs ?? 1000 };
}

/** Delay before attempt `attempt + 1` (attempt counts from 0): `first` doubled each time, capped. */
export function backoffMs(first: number, attempt: number): number {
  return Math.min(MAX_DELAY_MS, first * 2 ** attempt);
}

/** Retry-After as seconds or an HTTP date, in ms (capped); undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Math.min(MAX_DELAY_MS, Number(value.trim()) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.min(MAX_DELAY_MS, Math.max(0, date - now));
}

/** The wait before retrying a throttled answer: the server's Retry-After, else 2 s doubling. */
export function throttleDelayMs(header: string | string[] | undefined, attempt: number): number {
  return retryAfterMs(header) ?? backoffMs(THROTTLE_FIRST_DELAY_MS, attempt);
}

/** Waits `ms`, rejecting early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
