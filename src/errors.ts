// One error class per kind a user can act on. Each message is one line that names the thing.
// Recognised by a brand rather than instanceof, so that two copies of this module (a plugin
// bundling its own, or source and compiled trees side by side) still agree.

const BRAND = Symbol.for("imgcopy.error");

export type ErrorCode =
  | "EBADREF"
  | "ENOTFOUND"
  | "EUNSUPPORTED"
  | "EDIGEST"
  | "EBUSY"
  | "ECORRUPT"
  | "EIO"
  | "EPLUGIN"
  | "EUSAGE"
  | "EABORT"
  | "EAUTH"
  | "ENETWORK";

/** Exit codes by kind: one place maps errors to what the process returns. */
export const EXIT_CODES: Record<ErrorCode, number> = {
  EUSAGE: 2,
  EBADREF: 2,
  ENOTFOUND: 3,
  EUNSUPPORTED: 4,
  EDIGEST: 5,
  ECORRUPT: 5,
  EBUSY: 6,
  EIO: 1,
  EPLUGIN: 7,
  EABORT: 130,
  EAUTH: 8,
  ENETWORK: 9,
};

export class ImgcopyError extends Error {
  readonly code: ErrorCode;
  readonly [BRAND] = true;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export function isImgcopyError(err: unknown): err is ImgcopyError {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}

/** A reference that does not parse: names the text and says what was expected. */
export class BadReferenceError extends ImgcopyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EBADREF", message, options);
  }
}

/** Something named (image, container, path, blob, transport) does not exist. */
export class NotFoundError extends ImgcopyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ENOTFOUND", message, options);
  }
}

/** A request the transport or format cannot honour (read-only destination, unknown driver, bzip2). */
export class UnsupportedError extends ImgcopyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EUNSUPPORTED", message, options);
  }
}

/** A blob whose bytes do not match its digest or size. */
export class DigestMismatchError extends ImgcopyError {
  readonly expected: string;
  readonly actual: string;
  constructor(what: string, expected: string, actual: string) {
    super("EDIGEST", `${what}: digest mismatch: expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** Malformed input: bad JSON, a truncated or hostile tar, a broken record. */
export class CorruptInputError extends ImgcopyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ECORRUPT", message, options);
  }
}

/** A lock held by someone else for longer than we were willing to wait. */
export class StoreBusyError extends ImgcopyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EBUSY", message, options);
  }
}

export class PluginError extends ImgcopyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EPLUGIN", message, options);
  }
}

export class UsageError extends ImgcopyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EUSAGE", message, options);
  }
}

export class AbortedError extends ImgcopyError {
  constructor(message = "copy aborted", options?: { cause?: unknown }) {
    super("EABORT", message, options);
  }
}

/** A registry refused our credentials or the access (HTTP 401/403): never retried. */
export class AuthError extends ImgcopyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EAUTH", message, options);
  }
}

/**
 * A network or server failure (connection refused/reset, timeout, HTTP 429/5xx). `retryable`: a
 * whole-operation retry (--retry-times) may succeed.
 */
export class NetworkError extends ImgcopyError {
  readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super("ENETWORK", message, options);
    this.retryable = options?.retryable ?? true;
  }
}

/** A filesystem failure, named by the path involved. */
export class IOError extends ImgcopyError {
  readonly path: string | undefined;
  constructor(message: string, options?: { cause?: unknown; path?: string }) {
    super("EIO", message, options);
    this.path = options?.path;
  }
}

/**
 * Turns a Node system error into an ImgcopyError naming `what` (ENOENT -> NotFoundError);
 * ImgcopyErrors pass through unchanged.
 */
export function describeFsError(err: unknown, what: string): ImgcopyError {
  if (isImgcopyError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  const reason = e?.code ? `${e.code}${e.syscall ? ` (${e.syscall})` : ""}` : String(e?.message ?? err);
  if (e?.code === "ENOENT") return new NotFoundError(`${what}: no such file or directory`, { cause: err });
  if (e?.code === "ABORT_ERR") return new AbortedError(`${what}: aborted`, { cause: err });
  return new IOError(`${what}: ${reason}`, { cause: err, path: e?.path });
}
