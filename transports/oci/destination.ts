// Writing an image into an OCI image layout. Blobs go straight into blobs/sha256 (content addressed,
// so they change nothing a reader sees); commit() adds the index.json entry under a lock.
import { mkdir, readdir, realpath, rm, rmdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { writeFileAtomic } from "../../src/atomic-fs.js";
import { cannotCreateIn, requireParentDirectory } from "../../src/destination-parent.js";
import { removeStaleTempEntries } from "../../src/stale-temp.js";
import { isDigest, sha256 } from "../../src/digest.js";
import { NotFoundError, UnsupportedError, describeFsError } from "../../src/errors.js";
import { ANNOTATION_REF_NAME, OCI_INDEX, OCI_MANIFEST } from "../../src/manifest/media-types.js";
import type {
  BlobInfo,
  Digest,
  ImageDestination,
  LayerCompressionWish,
  PutBlobFileOptions,
  PutBlobOptions,
  ReuseOptions,
  StreamDigest,
  SystemContext,
} from "../../src/types.js";
import { writeBlob, writeBlobFromFile, type WrittenBlob } from "./blob-writer.js";
import { findCompressedBlob, layersByDiffId } from "./diffid-reuse.js";
import { putEntry } from "./index-entries.js";
import {
  INDEX_FILE,
  LAYOUT_VERSION_JSON,
  OCI_LAYOUT_FILE,
  blobDir,
  blobPath,
  hasLayoutFile,
  readIndexFile,
  type OciDescriptor,
} from "./layout-files.js";
import { withLayoutLock } from "./layout-lock.js";
import { platformOf } from "./manifest-platform.js";
import { reachableBlobs } from "./reachable-blobs.js";
import type { OciReference } from "./reference.js";

const LOCK_FILE = `${INDEX_FILE}.lock`;
const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
/** Names a concurrent writer may have put in a layout it is creating: not "someone else's files". */
/** `.imgcopy-blob-PID-xxxx`, as blob-writer.ts names its temp files. */
const STALE_BLOB_TEMP_RE = /^\.imgcopy-blob-([0-9]+)-/;
const TRANSIENT_NAME_RE = /^(\.oci-layout\.tmp-|\.index\.json\.tmp-|\.imgcopy-blob-|index\.json\.lock$)/;

export class OciLayoutDestination implements ImageDestination {
  /** Blobs this copy put into blobs/sha256 that were not there before: close() without commit removes them. */
  private readonly added = new Set<Digest>();
  /** Blobs the image being written references (put or reused): commit checks they are all still there. */
  private readonly used = new Set<Digest>();
  private top: OciDescriptor | undefined;
  /** The layout's layers by DiffID, read on the first reuse by DiffID. */
  private layoutLayers: ReturnType<typeof layersByDiffId> | undefined;
  private committed = false;
  private closed = false;
  /** What open() created, so that an abandoned copy leaves no trace. */
  private createdRoot: string | undefined;
  private createdLayoutFile = false;
  private createdBlobDirs: string | undefined;

  private constructor(
    readonly reference: OciReference,
    private readonly layoutPath: string,
    private readonly ctx: SystemContext,
  ) {}

  static async open(ref: OciReference, ctx: SystemContext): Promise<OciLayoutDestination> {
    const what = ref.toString();
    const layoutPath = await realpath(ref.resolvedPath).catch(() => ref.resolvedPath);
    const dest = new OciLayoutDestination(ref, layoutPath, ctx);
    let hasLayout = false;
    await requireParentDirectory(layoutPath, what);
    try {
      const st = await stat(layoutPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        throw err;
      });
      if (st && !st.isDirectory()) throw new UnsupportedError(`${what}: ${layoutPath} exists and is not a directory`);
      if (st) {
        const names = (await readdir(layoutPath)).filter((n) => !TRANSIENT_NAME_RE.test(n));
        hasLayout = names.includes(OCI_LAYOUT_FILE) && (await hasLayoutFile(layoutPath, what));
        if (!hasLayout && names.length > 0) {
          throw new UnsupportedError(`${what}: ${layoutPath} is not empty and is not an OCI image layout (no oci-layout file); refusing to write into it`);
        }
        if (hasLayout) await readIndexFile(layoutPath, what); // a corrupt index.json fails now, not after the copy
        // Blob temp files of a killed writer (see src/stale-temp.ts) go before this copy adds its own.
        if (hasLayout) await removeStaleTempEntries(layoutPath, STALE_BLOB_TEMP_RE);
      } else {
        // Not recursive: the parent exists, and Node's recursive mkdir never ends where the file
        // system refuses new entries (/proc).
        // EEXIST: another writer made it just now; then it is not ours to remove.
        const made = await mkdir(layoutPath).then(
          () => true,
          (err: NodeJS.ErrnoException) => {
            if (err.code === "EEXIST") return false;
            throw cannotCreateIn(err, dirname(layoutPath), what);
          },
        );
        if (made) dest.createdRoot = layoutPath;
      }
      if (!hasLayout) {
        await writeFileAtomic(join(layoutPath, OCI_LAYOUT_FILE), LAYOUT_VERSION_JSON);
        dest.createdLayoutFile = true;
      }
      dest.createdBlobDirs = await mkdir(blobDir(layoutPath), { recursive: true });
    } catch (err) {
      await dest.close();
      throw describeFsError(err, `${what}: ${layoutPath}`);
    }
    return dest;
  }

  supportedManifestTypes(): readonly string[] {
    return [OCI_MANIFEST, OCI_INDEX];
  }

  desiredLayerCompression(): LayerCompressionWish {
    return this.ctx.ociAcceptUncompressedLayers ? "preserve" : "compress";
  }

  hasThreadSafePutBlob(): boolean {
    return true;
  }

  async tryReusingBlob(info: BlobInfo, opts?: ReuseOptions): Promise<BlobInfo | undefined> {
    this.checkOpen();
    if (info.placeholder || !isDigest(info.digest)) return undefined;
    if (opts?.compressTo) {
      // info.digest is the DiffID: a blob of the layout holding it compressed so stands in.
      this.layoutLayers ??= layersByDiffId(this.layoutPath, this.what);
      const found = await findCompressedBlob(this.layoutPath, info.digest, opts.compressTo, opts.candidates ?? [], await this.layoutLayers, this.what);
      if (found) this.used.add(found.digest);
      return found;
    }
    const st = await stat(blobPath(this.layoutPath, info.digest, this.what)).catch(() => undefined);
    if (!st?.isFile() || (info.size >= 0 && st.size !== info.size)) return undefined;
    this.used.add(info.digest);
    return { ...info, size: st.size };
  }

  blobCacheLocation(): string {
    return `oci:${this.layoutPath}`;
  }

  async putBlob(stream: Readable, info: BlobInfo, opts: PutBlobOptions): Promise<BlobInfo> {
    this.checkOpen();
    const expected = info.placeholder ? undefined : { digest: info.digest, size: info.size };
    const written = await this.store(stream, expected, `${this.what}: blob ${info.placeholder ? "(computed)" : info.digest}`, opts.streamDigest);
    const { placeholder: _placeholder, ...rest } = info;
    return { ...rest, digest: written.digest, size: written.size };
  }

  /** A kept blob that is a file on this machine: copied inside the kernel, verified by the engine before it counts. */
  async putBlobFromFile(path: string, info: BlobInfo, opts: PutBlobFileOptions): Promise<BlobInfo> {
    this.checkOpen();
    const what = `${this.what}: blob ${info.digest}`;
    await this.makeBlobDir();
    const written = await writeBlobFromFile(this.layoutPath, path, { digest: info.digest, size: info.size }, what, opts.verify);
    this.remember(written);
    const { placeholder: _placeholder, ...rest } = info;
    return { ...rest, digest: written.digest, size: written.size };
  }

  async putManifest(bytes: Uint8Array, mediaType: string, instance?: Digest): Promise<void> {
    this.checkOpen();
    if (mediaType !== OCI_MANIFEST && mediaType !== OCI_INDEX) {
      throw new UnsupportedError(`${this.what}: an OCI layout stores OCI manifests and indexes, not ${mediaType} (convert it to OCI first)`);
    }
    const digest = sha256(bytes);
    await this.store(Readable.from([Buffer.from(bytes)]), { digest, size: bytes.length }, `${this.what}: manifest ${digest}`);
    if (instance !== undefined) return; // an index's member: the index references it
    const desc: OciDescriptor = { mediaType, digest, size: bytes.length };
    if (this.reference.refName !== undefined) desc.annotations = { [ANNOTATION_REF_NAME]: this.reference.refName };
    const platform = mediaType === OCI_MANIFEST ? await platformOf(this.layoutPath, bytes) : undefined;
    if (platform) desc.platform = platform;
    this.top = desc;
  }

  async putSignatures(signatures: Uint8Array[]): Promise<void> {
    if (signatures.length > 0) {
      throw new UnsupportedError(`${this.what}: an OCI layout cannot store signatures (remove them with --remove-signatures)`);
    }
  }

  async commit(): Promise<void> {
    this.checkOpen();
    const top = this.top;
    if (!top) throw new UnsupportedError(`${this.what}: commit before any manifest was written`);
    await this.locked(async () => {
      if (!(await hasLayoutFile(this.layoutPath, this.what))) {
        await writeFileAtomic(join(this.layoutPath, OCI_LAYOUT_FILE), LAYOUT_VERSION_JSON);
      }
      for (const digest of this.used) {
        const st = await stat(blobPath(this.layoutPath, digest, this.what)).catch(() => undefined);
        if (!st) {
          throw new NotFoundError(`${this.what}: blob ${digest} was removed from the layout by another writer before commit; retry the copy`);
        }
      }
      // Re-read under the lock: another copy may have committed since we started.
      const index = (await readIndexFile(this.layoutPath, this.what)) ?? { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
      putEntry(index, top);
      await writeFileAtomic(join(this.layoutPath, INDEX_FILE), `${JSON.stringify(index)}\n`);
    });
    this.committed = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.committed) return;
    try {
      if (this.added.size > 0 || this.createdLayoutFile || this.createdBlobDirs !== undefined) {
        await this.locked(() => this.removeOwnTraces());
      }
      if (this.createdRoot !== undefined) {
        for (let dir = this.layoutPath; dir.startsWith(this.createdRoot); dir = dirname(dir)) {
          if (!(await rmdir(dir).then(() => true, () => false))) break; // not empty: someone else uses it
        }
      }
    } catch (err) {
      // close() runs on error paths: report what could not be undone without hiding the first error.
      this.ctx.warn?.(`${this.what}: could not remove the blobs of the abandoned copy: ${(err as Error).message}`);
    }
  }

  /** Removes the blobs this copy added (unless a committed image uses them now) and the dirs/files open() made. */
  private async removeOwnTraces(): Promise<void> {
    const index = await readIndexFile(this.layoutPath, this.what).catch(() => undefined);
    const keep = index && this.added.size > 0 ? await reachableBlobs(this.layoutPath, index) : new Set<string>();
    for (const digest of this.added) {
      if (!keep.has(digest)) await rm(blobPath(this.layoutPath, digest, this.what), { force: true });
    }
    if (this.createdBlobDirs !== undefined) {
      const sha = blobDir(this.layoutPath);
      const removedSha = await rmdir(sha).then(() => true, () => false);
      if (removedSha && this.createdBlobDirs !== sha) await rmdir(dirname(sha)).catch(() => undefined);
    }
    const blobsLeft = await stat(join(this.layoutPath, "blobs")).then(() => true, () => false);
    if (this.createdLayoutFile && !index && !blobsLeft) await rm(join(this.layoutPath, OCI_LAYOUT_FILE), { force: true });
  }

  /** Stores a blob, remembering it as used, and as added when it was not there before. */
  private async store(stream: Readable, expected: { digest: Digest; size: number } | undefined, what: string, computed?: StreamDigest) {
    await this.makeBlobDir();
    const written = await writeBlob(this.layoutPath, stream, expected, what, computed);
    this.remember(written);
    return written;
  }

  /** A concurrent abandoned copy may have removed an empty blobs/ that it created. */
  private async makeBlobDir(): Promise<void> {
    const made = await mkdir(blobDir(this.layoutPath), { recursive: true }).catch((err: unknown) => {
      throw describeFsError(err, `${this.what}: ${blobDir(this.layoutPath)}`);
    });
    this.createdBlobDirs ??= made;
  }

  private remember(written: WrittenBlob): void {
    if (written.created) this.added.add(written.digest);
    this.used.add(written.digest);
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const lockPath = join(this.layoutPath, LOCK_FILE);
    return withLayoutLock(lockPath, { timeoutMs: this.ctx.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, what: this.what, warn: this.ctx.warn }, fn);
  }

  private checkOpen(): void {
    if (this.closed) throw new UnsupportedError(`${this.what}: the destination is already closed`);
  }

  private get what(): string {
    return this.reference.toString();
  }
}
