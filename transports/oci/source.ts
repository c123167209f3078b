// Reading one image (or index) out of an OCI image layout.
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { isDigest, sha256 } from "../../src/digest.js";
import { CorruptInputError, DigestMismatchError, NotFoundError, describeFsError } from "../../src/errors.js";
import { guessManifestMediaType } from "../../src/manifest/guess-media-type.js";
import type { BlobInfo, BlobStream, Digest, ImageSource, ManifestBlob, SystemContext } from "../../src/types.js";
import { selectEntry } from "./index-entries.js";
import {
  INDEX_FILE,
  blobPath,
  hasLayoutFile,
  parseJson,
  readIndexFile,
  readSmallFile,
  type OciDescriptor,
} from "./layout-files.js";
import type { OciReference } from "./reference.js";

export class OciLayoutSource implements ImageSource {
  private constructor(
    readonly reference: OciReference,
    private readonly layoutPath: string,
    /** The index.json entry this reference names. */
    private readonly entry: OciDescriptor,
    private readonly manifest: ManifestBlob,
  ) {}

  static async open(ref: OciReference, ctx: SystemContext): Promise<OciLayoutSource> {
    const what = ref.toString();
    const layoutPath = ref.resolvedPath;
    await checkLayoutDirectory(layoutPath, what);
    const hasLayout = await hasLayoutFile(layoutPath, what);
    const index = await readIndexFile(layoutPath, what);
    if (!hasLayout && !index) throw new NotFoundError(`${what}: ${layoutPath} is not an OCI image layout (it has no oci-layout file)`);
    if (!index) throw new NotFoundError(`${what}: ${join(layoutPath, INDEX_FILE)}: no such file`);
    // skopeo reads a layout whose oci-layout file is missing (some tools forget it): so do we, but say so.
    if (!hasLayout) ctx.warn?.(`${what}: ${layoutPath} has no oci-layout file; reading it as an OCI image layout anyway (as skopeo does)`);
    const entry = selectEntry(index, { refName: ref.refName, sourceIndex: ref.sourceIndex }, what);
    const bytes = await readVerifiedManifest(layoutPath, entry.digest, entry.size, what);
    const mediaType = typeof entry.mediaType === "string" && entry.mediaType !== "" ? entry.mediaType : guessManifestMediaType(parseJson(bytes, `${what}: manifest ${entry.digest}`));
    return new OciLayoutSource(ref, layoutPath, entry, { bytes, mediaType });
  }

  /** The index.json descriptor of the chosen image (annotations, platform). */
  get descriptor(): OciDescriptor {
    return this.entry;
  }

  async getManifest(instance?: Digest): Promise<ManifestBlob> {
    if (instance === undefined || instance === this.entry.digest) return this.manifest;
    const what = this.reference.toString();
    const bytes = await readVerifiedManifest(this.layoutPath, instance, -1, what);
    const child = this.childDescriptor(instance);
    const declared = typeof child?.mediaType === "string" && child.mediaType !== "" ? child.mediaType : undefined;
    return { bytes, mediaType: declared ?? guessManifestMediaType(parseJson(bytes, `${what}: manifest ${instance}`)) };
  }

  async getBlob(info: BlobInfo, signal?: AbortSignal): Promise<BlobStream> {
    const what = `${this.reference.toString()}: blob ${String(info.digest).slice(0, 80)}`;
    const path = blobPath(this.layoutPath, info.digest, what);
    try {
      const fh = await open(path, "r");
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw new CorruptInputError(`${what}: ${path} is not a regular file`);
        // Big reads: one syscall and one chunk per MiB instead of 16 (the default 64 KiB).
        const stream = fh.createReadStream({ highWaterMark: 1024 * 1024, ...(signal ? { signal } : {}) });
        return { stream, size: st.size, file: path };
      } catch (err) {
        await fh.close();
        throw err;
      }
    } catch (err) {
      throw describeFsError(err, `${what} (${path})`);
    }
  }

  async getSignatures(): Promise<Uint8Array[]> {
    return []; // an OCI layout has no place for signatures
  }

  async close(): Promise<void> {}

  /** The descriptor of `digest` in the top-level index, when the image is an index. */
  private childDescriptor(digest: Digest): OciDescriptor | undefined {
    try {
      const top = JSON.parse(Buffer.from(this.manifest.bytes).toString("utf8")) as { manifests?: OciDescriptor[] };
      return Array.isArray(top.manifests) ? top.manifests.find((d) => d?.digest === digest) : undefined;
    } catch {
      return undefined; // the top-level manifest is not an index: no child descriptors
    }
  }
}

/** A layout is a directory: say plainly when PATH is missing or is something else. */
async function checkLayoutDirectory(layoutPath: string, what: string): Promise<void> {
  let st;
  try {
    st = await stat(layoutPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`${what}: ${layoutPath} does not exist`, { cause: err });
    throw describeFsError(err, `${what}: ${layoutPath}`);
  }
  if (!st.isDirectory()) throw new NotFoundError(`${what}: ${layoutPath} is not a directory (an OCI image layout is a directory)`);
}

/** Reads blobs/sha256/<hex> and checks that it hashes to `digest` (and has `size` when >= 0). */
async function readVerifiedManifest(layoutPath: string, digest: string, size: number, what: string): Promise<Uint8Array> {
  if (!isDigest(digest)) {
    throw new CorruptInputError(`${what}: manifest digest ${JSON.stringify(digest).slice(0, 100)} is not a sha256 digest`);
  }
  const label = `${what}: manifest ${digest}`;
  const bytes = await readSmallFile(blobPath(layoutPath, digest, label), label);
  if (size >= 0 && bytes.length !== size) throw new DigestMismatchError(label, `size ${size}`, `size ${bytes.length}`);
  const actual = sha256(bytes);
  if (actual !== digest) throw new DigestMismatchError(label, digest, actual);
  return bytes;
}
