// What every step of one copy shares: both ends, their names, the options, the signal, progress.
import type { ResolvedCopyOptions } from "./copy-options.js";
import type { ProgressSink } from "./progress-meter.js";
import type { BlobInfoCache } from "../blob-info-cache.js";
import type { ImageDestination, ImageSource } from "../types.js";

export interface CopyRun {
  readonly source: ImageSource;
  readonly dest: ImageDestination;
  /** The references as text, for messages. */
  readonly srcName: string;
  readonly destName: string;
  readonly options: ResolvedCopyOptions;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
  readonly warn: (message: string) => void;
  /** The blob-info cache and the destination's location in it, when the destination has one. */
  readonly cache?: { cache: BlobInfoCache; location: string } | undefined;
}

/**
 * Why this image's manifest must stay byte-for-byte as it is (--preserve-digests, or signatures
 * that a change would invalidate); undefined when it may change.
 */
export type CannotModifyReason = string | undefined;
