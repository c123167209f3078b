// Choosing an image among index.json's entries (sources) and adding one (destinations).
import { BadReferenceError, NotFoundError } from "../../src/errors.js";
import { ANNOTATION_REF_NAME } from "../../src/manifest/media-types.js";
import { refNameOf, type OciDescriptor, type OciIndexFile } from "./layout-files.js";

export interface EntrySelector {
  refName: string | undefined;
  sourceIndex: number | undefined;
}

/** One line per entry for error messages: "tag (sha256:0123456789ab…)" or "@1 (sha256:…, no name)". */
function describeEntries(index: OciIndexFile): string {
  return index.manifests
    .map((d, i) => {
      const name = refNameOf(d, ANNOTATION_REF_NAME);
      const digest = typeof d.digest === "string" ? d.digest.slice(0, 19) : "?";
      return name === undefined ? `@${i} (${digest}…, no name)` : `${name} (${digest}…)`;
    })
    .join(", ");
}

/** The entry a reference names: by REF, by @N, or the only one. */
export function selectEntry(index: OciIndexFile, sel: EntrySelector, what: string): OciDescriptor {
  const entries = index.manifests;
  if (sel.sourceIndex !== undefined) {
    const d = entries[sel.sourceIndex];
    if (!d) throw new NotFoundError(`${what}: there is no image @${sel.sourceIndex}: index.json has ${entries.length} (@0..@${entries.length - 1})`);
    return d;
  }
  if (sel.refName !== undefined) {
    const matches = entries.filter((d) => refNameOf(d, ANNOTATION_REF_NAME) === sel.refName);
    const first = matches[0];
    if (!first) {
      const known = entries.length === 0 ? "the layout has no images" : `it has: ${describeEntries(index)}`;
      throw new NotFoundError(`${what}: no image named "${sel.refName}" in index.json; ${known}`);
    }
    if (matches.length > 1 && matches.some((d) => d.digest !== first.digest)) {
      throw new BadReferenceError(`${what}: index.json names ${matches.length} different images "${sel.refName}"; pick one with oci:PATH:@N (${describeEntries(index)})`);
    }
    return first;
  }
  const only = entries[0];
  if (!only) throw new NotFoundError(`${what}: the layout has no images (index.json lists no manifests)`);
  if (entries.length > 1) {
    throw new BadReferenceError(
      `${what}: the layout holds ${entries.length} images; name one as oci:PATH:REF or oci:PATH:@N: ${describeEntries(index)}`,
    );
  }
  return only;
}

/**
 * Adds `desc` to index.json's entries, in place. A REF moves: entries that had it lose it (are
 * removed). An entry without a name and with the same digest is replaced; otherwise `desc` is appended.
 */
export function putEntry(index: OciIndexFile, desc: OciDescriptor): void {
  const name = refNameOf(desc, ANNOTATION_REF_NAME);
  if (name !== undefined) {
    index.manifests = index.manifests.filter((d) => refNameOf(d, ANNOTATION_REF_NAME) !== name);
  }
  const same = index.manifests.findIndex((d) => d.digest === desc.digest && refNameOf(d, ANNOTATION_REF_NAME) === undefined);
  if (same >= 0) index.manifests[same] = desc;
  else index.manifests.push(desc);
}
