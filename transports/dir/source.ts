// Reading an image from a dir: directory.
import { open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { CorruptInputError, NotFoundError, describeFsError } from "../../src/errors.js";
import { guessManifestMediaType } from "../../src/manifest/guess-media-type.js";
import { parseJsonObject } from "../../src/manifest/parse-manifest.js";
import type { BlobInfo, BlobStream, Digest, ImageSource, ManifestBlob, SystemContext } from "../../src/types.js";
import { blobFile, manifestFile, readDirVersion, signatureFile } from "./dir-layout.js";
import type { DirReference } from "./reference.js";

/** A manifest is small; refuse to buffer a huge file named manifest.json (same bound as containers/image). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export class DirImageSource implements ImageSource {
  private constructor(
    readonly reference: DirReference,
    private readonly dir: string,
    private readonly version: string | undefined,
  ) {}

  static async open(ref: DirReference, _ctx: SystemContext): Promise<DirImageSource> {
    const what = ref.toString();
    const dir = ref.resolvedPath;
    const st = await stat(dir).catch((err: unknown) => {
      throw describeFsError(err, `${what}: ${dir}`);
    });
    if (!st.isDirectory()) throw new NotFoundError(`${what}: ${dir} is not a directory`);
    const version = await readDirVersion(dir, what);
    const src = new DirImageSource(ref, dir, version);
    await src.getManifest(); // fail now when there is no image here
    return src;
  }

  async getManifest(instance?: Digest): Promise<ManifestBlob> {
    const what = this.reference.toString();
    const path = join(this.dir, manifestFile(instance, what));
    let bytes: Buffer;
    try {
      const fh = await open(path, "r");
      try {
        const { size } = await fh.stat();
        if (size > MAX_MANIFEST_BYTES) throw new CorruptInputError(`${what}: ${path} is ${size} bytes, more than a manifest may have`);
        bytes = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw describeFsError(err, `${what}: ${instance ? `manifest ${instance}` : "manifest"} (${path})`);
    }
    return { bytes, mediaType: guessManifestMediaType(parseJsonObject(bytes, `${what}: ${path}`)) };
  }

  async getBlob(info: BlobInfo, signal?: AbortSignal): Promise<BlobStream> {
    const what = `${this.reference.toString()}: blob ${String(info.digest).slice(0, 80)}`;
    const name = blobFile(info.digest, what);
    const candidates = this.version === "1.0" ? [`${name}.tar`, name] : [name, `${name}.tar`];
    let lastErr: unknown;
    for (const candidate of candidates) {
      const path = join(this.dir, candidate);
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
        lastErr = err;
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") break;
      }
    }
    throw describeFsError(lastErr, `${what} (${join(this.dir, name)})`);
  }

  /** signature-1, signature-2, ... until one is missing. */
  async getSignatures(instance?: Digest): Promise<Uint8Array[]> {
    const what = this.reference.toString();
    const signatures: Uint8Array[] = [];
    for (let n = 1; ; n++) {
      const path = join(this.dir, signatureFile(n, instance, what));
      try {
        signatures.push(await readFile(path));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return signatures;
        throw describeFsError(err, `${what}: ${path}`);
      }
    }
  }

  async close(): Promise<void> {}
}
