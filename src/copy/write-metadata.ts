// Signatures and manifests: signatures are read before copying (they forbid changing the manifest), both are written last.
import type { Digest, ProgressEvent } from "../types.js";
import type { CannotModifyReason, CopyRun } from "./copy-run.js";

/** The signatures to copy for `instance` (none with --remove-signatures or when either end has none). */
export async function readSignatures(run: CopyRun, instance?: Digest): Promise<Uint8Array[]> {
  if (run.options.removeSignatures || !run.source.getSignatures) return [];
  const signatures = await run.source.getSignatures(instance);
  if (signatures.length > 0 && !run.dest.putSignatures) {
    run.warn(`${run.destName} cannot store signatures: ${signatures.length} signature(s) of ${run.srcName} not copied`);
    return [];
  }
  return signatures;
}

/** Why the manifest must not change: --preserve-digests, or signatures it would invalidate. */
export function cannotModifyReason(run: CopyRun, signatures: Uint8Array[], inherited?: CannotModifyReason): CannotModifyReason {
  if (inherited) return inherited;
  if (run.options.preserveDigests) return "--preserve-digests forbids changing any digest";
  if (signatures.length > 0) return "that would invalidate the image's signatures (use --remove-signatures to drop them)";
  return undefined;
}

/**
 * In a list copy (--all), which manifest a "manifest"/"signatures" event is about: the source digest of
 * the image (or, with `list`, of the list), and the digest written when conversion changed it.
 */
export type MetadataLabel = Pick<ProgressEvent, "digest" | "storedDigest" | "list">;

export async function writeSignatures(run: CopyRun, signatures: Uint8Array[], instance?: Digest, label: MetadataLabel = {}): Promise<void> {
  if (signatures.length === 0 || !run.dest.putSignatures) return;
  run.progress({ kind: "signatures", ...label, bytes: 0, total: signatures.length, state: "start" });
  await run.dest.putSignatures(signatures, instance);
  run.progress({ kind: "signatures", ...label, bytes: signatures.length, total: signatures.length, state: "done" });
}

export async function writeManifest(run: CopyRun, bytes: Uint8Array, mediaType: string, instance?: Digest, label: MetadataLabel = {}): Promise<void> {
  run.progress({ kind: "manifest", ...label, bytes: 0, total: bytes.length, state: "start" });
  await run.dest.putManifest(bytes, mediaType, instance);
  run.progress({ kind: "manifest", ...label, bytes: bytes.length, total: bytes.length, state: "done" });
}
