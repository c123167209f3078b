// The messages between the main thread and a layer worker (./layer-worker.ts), and how an error
// crosses from one to the other and comes back as the same one-line imgcopy error.
import {
  AbortedError, CorruptInputError, DigestMismatchError, ImgcopyError, IOError, isImgcopyError, NotFoundError, StoreBusyError, UnsupportedError,
  type ErrorCode,
} from "../../../src/errors.js";
import type { LayerRecord, StoreLocation } from "../store/record-types.js";
import type { SelfCheck } from "./index.js";

/**
 * Bytes per message: the worker fills batches this big, so the main thread handles few, large
 * chunks (256 KiB rather than 1 MiB: same CPU, and ~10 MiB less held by the pipelines' stages).
 */
export const BATCH_BYTES = 256 * 1024;

/**
 * Batches of a stream that may be on their way at once: its ring (a SharedArrayBuffer made by the
 * main thread) has this many slots, and the worker fills a slot only with a credit for it.
 */
export const RING_SLOTS = 2;

/** What a worker needs to open a layer: LayerStreamInput without its callbacks and signal. */
export interface LayerOpenRequest {
  location: StoreLocation;
  layer: LayerRecord;
  lowers: LayerRecord[];
  layerStoreRoot: string;
  mtime?: number | undefined;
}

export type ToWorker =
  | { type: "open"; id: number; request: LayerOpenRequest; ring: SharedArrayBuffer }
  /** The main thread can take `chunks` more batches of stream `id`. */
  | { type: "credit"; id: number; chunks: number }
  | { type: "cancel"; id: number };

export interface SentError {
  code: ErrorCode | undefined;
  message: string;
  expected?: string;
  actual?: string;
  path?: string;
}

export type FromWorker =
  | { type: "opened"; id: number; verifies: SelfCheck | undefined }
  /** The first `length` bytes of ring slot `slot` are the next chunk (copied out before the slot's credit returns). */
  | { type: "data"; id: number; slot: number; length: number }
  | { type: "warn"; id: number; message: string }
  /** The stream ended; `digest`: its sha256, when the layer does not check itself (a diff). */
  | { type: "end"; id: number; digest: string | undefined; size: number }
  | { type: "error"; id: number; error: SentError };

export function sendableError(err: unknown, what: string): SentError {
  if (isImgcopyError(err)) {
    const sent: SentError = { code: err.code, message: err.message };
    if (err instanceof DigestMismatchError || (err.code === "EDIGEST" && "expected" in err)) {
      const d = err as DigestMismatchError;
      sent.expected = d.expected;
      sent.actual = d.actual;
    }
    if (err instanceof IOError && err.path !== undefined) sent.path = err.path;
    return sent;
  }
  return { code: undefined, message: `${what}: ${(err as Error)?.message ?? String(err)}` };
}

const BY_CODE: Partial<Record<ErrorCode, new (message: string) => ImgcopyError>> = {
  ENOTFOUND: NotFoundError,
  EUNSUPPORTED: UnsupportedError,
  ECORRUPT: CorruptInputError,
  EBUSY: StoreBusyError,
  EABORT: AbortedError,
};

/** The error the worker sent, as the same class with the same message (anything else: IOError). */
export function revivedError(sent: SentError): ImgcopyError {
  if (sent.code === "EDIGEST") {
    const err = new DigestMismatchError("", sent.expected ?? "", sent.actual ?? "");
    err.message = sent.message;
    return err;
  }
  const Kind = sent.code !== undefined ? BY_CODE[sent.code] : undefined;
  if (Kind) return new Kind(sent.message);
  if (sent.code !== undefined && sent.code !== "EIO") return new ImgcopyError(sent.code, sent.message);
  return new IOError(sent.message, sent.path !== undefined ? { path: sent.path } : undefined);
}
