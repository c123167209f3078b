// Writing an image as a dir: directory. Everything goes into a temp dir beside PATH; commit() swaps
// it in (an existing image directory is replaced in one rename), close() without commit removes it.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, realpath, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { copyFileVerified, writeFileAtomic } from "../../src/atomic-fs.js";
import { cannotCreateIn, requireParentDirectory } from "../../src/destination-parent.js";
import { removeStaleTempEntries } from "../../src/stale-temp.js";
import { DigestingStream, isDigest } from "../../src/digest.js";
import { FileSink } from "../../src/file-sink.js";
import { DigestMismatchError, UnsupportedError, describeFsError } from "../../src/errors.js";
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
import { CURRENT_VERSION, VERSION_FILE, blobFile, classifyTarget, manifestFile, signatureFile } from "./dir-layout.js";
import { previousLayers, reusePreviousBlob } from "./previous-image.js";
import type { DirReference } from "./reference.js";

export class DirImageDestination implements ImageDestination {
  /** Blobs already in the temp dir, by digest, with their sizes. */
  private readonly written = new Map<Digest, number>();
  private manifestWritten = false;
  /** The replaced image's layers by DiffID, read on the first reuse by DiffID. */
  private previous: ReturnType<typeof previousLayers> | undefined;
  private committed = false;
  private closed = false;

  private constructor(
    readonly reference: DirReference,
    /** The image directory (symlinks resolved, so a symlinked PATH stays a symlink). */
    private readonly target: string,
    /** Where this copy writes, beside `target`. */
    private readonly staging: string,
    /** The first parent directory open() had to create, if any. */
    private readonly createdParent: string | undefined,
    private readonly ctx: SystemContext,
  ) {}

  static async open(ref: DirReference, ctx: SystemContext): Promise<DirImageDestination> {
    const what = ref.toString();
    const target = await realpath(ref.resolvedPath).catch(() => ref.resolvedPath);
    await requireParentDirectory(target, what);
    await classifyTarget(target, what); // refuses someone's non-image directory before anything is written
    let createdParent: string | undefined;
    let staging: string | undefined;
    try {
      createdParent = await mkdir(dirname(target), { recursive: true });
      // Leftovers of a killed writer of this image directory go first (see src/stale-temp.ts).
      await removeStaleTempEntries(dirname(target), staleNamePattern(target, await isPresent(target)));
      staging = await mkdtemp(join(dirname(target), `.${basename(target)}.tmp-${process.pid}-`));
      await writeFile(join(staging, VERSION_FILE), CURRENT_VERSION);
    } catch (err) {
      if (staging) await rm(staging, { recursive: true, force: true });
      throw cannotCreateIn(err, dirname(target), what);
    }
    return new DirImageDestination(ref, target, staging, createdParent, ctx);
  }

  supportedManifestTypes(): readonly string[] {
    return [];
  }

  desiredLayerCompression(): LayerCompressionWish {
    return "preserve";
  }

  hasThreadSafePutBlob(): boolean {
    return true;
  }

  blobCacheLocation(): string {
    return `dir:${this.target}`;
  }

  /**
   * By digest: only blobs this copy already wrote (a layer used twice, or shared by a list's images);
   * blobs of the image being replaced are not reused by digest, as skopeo does not either. By DiffID
   * (the engine would compress the layer): a compressed layer of the image being replaced, when its
   * own manifest and config say it holds that DiffID, or a cache candidate that decompresses to it.
   */
  async tryReusingBlob(info: BlobInfo, opts?: ReuseOptions): Promise<BlobInfo | undefined> {
    this.checkOpen();
    if (info.placeholder || !isDigest(info.digest)) return undefined;
    if (opts?.compressTo) {
      // info.digest is the DiffID: the image being replaced may hold the layer compressed so already.
      this.previous ??= previousLayers(this.target, this.what);
      const found = await reusePreviousBlob(this.target, this.staging, info.digest, opts.compressTo, opts.candidates ?? [], await this.previous, this.what);
      if (found) this.written.set(found.digest, found.size);
      return found;
    }
    const size = this.written.get(info.digest);
    if (size === undefined || (info.size >= 0 && info.size !== size)) return undefined;
    return { ...info, size };
  }

  /** A digest the engine proved (not a placeholder) is not hashed again; a placeholder's comes from `opts.streamDigest` or is hashed here. */
  async putBlob(stream: Readable, info: BlobInfo, opts: PutBlobOptions): Promise<BlobInfo> {
    this.checkOpen();
    const what = `${this.what}: blob ${info.placeholder ? "(computed)" : info.digest}`;
    if (!info.placeholder) blobFile(info.digest, what); // a hostile digest fails before any byte is written
    const tmp = join(this.staging, `.upload-${randomBytes(6).toString("hex")}`);
    const hasher = info.placeholder && !opts.streamDigest ? new DigestingStream() : undefined;
    try {
      const file = new FileSink(tmp, { mode: 0o644, sync: true });
      await (hasher ? pipeline(stream, hasher, file) : pipeline(stream, file));
      const size = file.bytesWritten;
      const digest = info.placeholder ? (hasher ?? (opts.streamDigest as StreamDigest)).digest() : info.digest;
      if (!info.placeholder && info.size >= 0 && size !== info.size) {
        throw new DigestMismatchError(what, `size ${info.size}`, `size ${size}`);
      }
      await rename(tmp, join(this.staging, blobFile(digest, what)));
      this.written.set(digest, size);
      const { placeholder: _placeholder, ...rest } = info;
      return { ...rest, digest, size };
    } catch (err) {
      await rm(tmp, { force: true });
      throw describeFsError(err, what);
    }
  }

  /** A kept blob that is a file on this machine: copied inside the kernel, verified by the engine before it counts. */
  async putBlobFromFile(path: string, info: BlobInfo, opts: PutBlobFileOptions): Promise<BlobInfo> {
    this.checkOpen();
    const what = `${this.what}: blob ${info.digest}`;
    const name = blobFile(info.digest, what); // a hostile digest fails before any byte is written
    const tmp = join(this.staging, `.upload-${randomBytes(6).toString("hex")}`);
    const size = await copyFileVerified(path, tmp, info.size, what, opts.verify);
    try {
      await rename(tmp, join(this.staging, name));
      this.written.set(info.digest, size);
      const { placeholder: _placeholder, ...rest } = info;
      return { ...rest, size };
    } catch (err) {
      await rm(tmp, { force: true });
      throw describeFsError(err, what);
    }
  }

  async putManifest(bytes: Uint8Array, _mediaType: string, instance?: Digest): Promise<void> {
    this.checkOpen();
    await writeFileAtomic(join(this.staging, manifestFile(instance, this.what)), bytes);
    if (instance === undefined) this.manifestWritten = true;
  }

  async putSignatures(signatures: Uint8Array[], instance?: Digest): Promise<void> {
    this.checkOpen();
    for (const [i, sig] of signatures.entries()) {
      await writeFileAtomic(join(this.staging, signatureFile(i + 1, instance, this.what)), sig);
    }
  }

  async commit(): Promise<void> {
    this.checkOpen();
    if (!this.manifestWritten) throw new UnsupportedError(`${this.what}: commit before the manifest was written`);
    const state = await classifyTarget(this.target, this.what); // someone may have put files there since open()
    const old = join(dirname(this.target), `.${basename(this.target)}.old-${process.pid}-${randomBytes(6).toString("hex")}`);
    try {
      const mode = state === "absent" ? 0o755 : (await stat(this.target)).mode & 0o7777;
      await chmod(this.staging, mode);
      if (state === "absent") {
        await rename(this.staging, this.target);
      } else {
        await rename(this.target, old);
        await rename(this.staging, this.target).catch(async (err: unknown) => {
          await rename(old, this.target); // put the previous image back
          throw err;
        });
      }
    } catch (err) {
      throw describeFsError(err, `${this.what}: replacing ${this.target}`);
    }
    this.committed = true;
    if (state !== "absent") {
      await rm(old, { recursive: true, force: true }).catch((err: unknown) => {
        this.ctx.warn?.(`${this.what}: the new image is in place, but the previous one could not be removed from ${old}: ${(err as Error).message}`);
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.committed) return;
    try {
      await rm(this.staging, { recursive: true, force: true });
      if (this.createdParent !== undefined) {
        for (let dir = dirname(this.target); dir.startsWith(this.createdParent); dir = dirname(dir)) {
          if (!(await rmdir(dir).then(() => true, () => false))) break; // not empty: someone else uses it
        }
      }
    } catch (err) {
      this.ctx.warn?.(`${this.what}: could not remove the abandoned copy in ${this.staging}: ${(err as Error).message}`);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new UnsupportedError(`${this.what}: the destination is already closed`);
    if (this.committed) throw new UnsupportedError(`${this.what}: the image was already committed`);
  }

  private get what(): string {
    return this.reference.toString();
  }
}

/**
 * `.NAME.tmp-PID-xxxxxx` (a copy being built) and, when NAME is in place, `.NAME.old-PID-hex` (a
 * replaced image being removed; without NAME it is the only copy of the image: kept).
 */
function staleNamePattern(target: string, targetPresent: boolean): RegExp {
  const escaped = basename(target).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^\\.${escaped}\\.${targetPresent ? "(?:tmp|old)" : "tmp"}-([0-9]+)-`);
}

async function isPresent(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
