// Where a docker-archive goes: a new (or empty) regular file is written atomically (temp file beside
// it, filled entry by entry as blobs arrive, then renamed at commit); a pipe, a device or
// /dev/stdout gets the tar streamed straight into it at commit.
// A non-empty file is refused, as skopeo does: an archive is never modified or silently replaced.
import { once } from "node:events";
import { mkdtemp, open, realpath, rename, rm, stat } from "node:fs/promises";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Readable, type Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { makeTempDirBeside, tempPathFor } from "../../src/atomic-fs.js";
import { cannotCreateIn, requireParentDirectory } from "../../src/destination-parent.js";
import { IOError, UnsupportedError, describeFsError, type ImgcopyError } from "../../src/errors.js";
import { FileSink } from "../../src/file-sink.js";
import { isSpecialPath, ownFdOf } from "./process-fd.js";

export class ArchiveOutput {
  private tempFile: string | undefined;
  /** Replace mode: the temp file the archive's first entries were appended to before commit. */
  private appender: FileSink | undefined;
  private appendError: Error | undefined;
  /** Replace mode: bytes given to append() so far (where the next entry starts). */
  appendedBytes = 0;

  private constructor(
    /** The path as the user named it. */
    readonly path: string,
    /** "docker-archive:PATH": how errors name the output. */
    readonly label: string,
    /** The file a rename replaces (mode "replace"), or the path to stream into. */
    readonly target: string,
    readonly mode: "replace" | "stream",
    /** Where blobs wait until commit. */
    readonly blobDir: string,
  ) {}

  /** Refuses an existing non-empty regular file before anything is written; `label` names PATH in errors. */
  static async open(path: string, label: string, env: NodeJS.ProcessEnv | undefined): Promise<ArchiveOutput> {
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw describeFsError(err, label);
    }
    if (!st) await requireParentDirectory(path, label);
    if (st?.isDirectory()) throw new UnsupportedError(`${label}: ${path} is a directory; docker-archive writes a tar file`);
    const target = st ? await realpath(path).catch(() => resolve(path)) : resolve(path);
    if (st && (!st.isFile() || isSpecialPath(path) || isSpecialPath(target))) {
      return new ArchiveOutput(path, label, path, "stream", await tempBlobDir(env));
    }
    if (st && st.size > 0) throw existingArchiveError(path, label);
    try {
      return new ArchiveOutput(path, label, target, "replace", await makeTempDirBeside(target));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      // An existing (empty) file in a folder we may not create files in can still be written in place.
      if (st && ["EACCES", "EPERM", "EROFS"].includes(code)) return new ArchiveOutput(path, label, path, "stream", await tempBlobDir(env));
      throw cannotCreateIn(err, dirname(target), label);
    }
  }

  /** Writes the archive. In "replace" mode nothing at `path` changes until the final rename. */
  async publish(chunks: AsyncIterable<Buffer>): Promise<void> {
    try {
      if (this.mode === "replace") await this.replace(chunks);
      else await this.stream(chunks);
    } catch (err) {
      await this.removeTempFile();
      if ((err as NodeJS.ErrnoException).code === "EPIPE") {
        throw new IOError(`${this.label}: the reader closed the pipe early`, { cause: err, path: this.path });
      }
      throw describeFsError(err, this.label);
    }
  }

  /** True when entries can be written before commit (a regular file, written to a temp file beside it). */
  get canAppend(): boolean {
    return this.mode === "replace";
  }

  /**
   * Replace mode: writes the archive's next bytes into the temp file now (the rest comes with
   * publish). Calls must not overlap. Nothing at `path` changes until publish renames the file.
   */
  async append(chunks: AsyncIterable<Buffer>): Promise<void> {
    if (!this.canAppend) throw new IOError(`${this.label}: entries cannot be written before commit into a pipe or device`);
    if (!this.appender) {
      this.tempFile = tempPathFor(this.target);
      // Flushed as it grows (see FileSink), so that the fsync before the rename has little left to do.
      this.appender = new FileSink(this.tempFile, { mode: 0o644, sync: true });
      this.appender.on("error", (err) => (this.appendError ??= err));
    }
    const out = this.appender;
    try {
      for await (const chunk of chunks) {
        if (this.appendError) throw this.appendError;
        this.appendedBytes += chunk.length;
        if (!out.write(chunk)) await once(out, "drain");
      }
    } catch (err) {
      throw describeFsError(err, this.label);
    }
    if (this.appendError) throw describeFsError(this.appendError, this.label);
  }

  /** Replace mode: overwrites appended bytes at `offset` (an entry's header, once its size is known). */
  async patch(offset: number, bytes: Buffer): Promise<void> {
    if (!this.appender || offset + bytes.length > this.appendedBytes) throw new IOError(`${this.label}: nothing appended at ${offset} to fill in`);
    await this.appender.writeAt(offset, bytes).catch((err: unknown) => {
      throw describeFsError(err, this.label);
    });
  }

  /** Replace mode: drops every appended byte from `offset` on (an entry that turned out to be there already). */
  async cutBack(offset: number): Promise<void> {
    if (!this.appender || offset > this.appendedBytes) throw new IOError(`${this.label}: cannot cut the archive back to ${offset}`);
    await this.appender.truncateTo(offset).catch((err: unknown) => {
      throw describeFsError(err, this.label);
    });
    this.appendedBytes = offset;
  }

  private async replace(chunks: AsyncIterable<Buffer>): Promise<void> {
    // On disk (FileSink's sync) before the rename makes it visible.
    if (this.appender) {
      await this.append(chunks);
      this.appender.end();
      await finished(this.appender);
    } else {
      this.tempFile = tempPathFor(this.target);
      await pipeline(Readable.from(chunks), new FileSink(this.tempFile, { mode: 0o644, sync: true }));
    }
    const tempFile = this.tempFile as string;
    // Another writer may have filled PATH since open(): never replace what it wrote.
    const now = await stat(this.target).catch(() => undefined);
    if (now?.isFile() && now.size > 0) throw existingArchiveError(this.path, this.label);
    await rename(tempFile, this.target);
    this.tempFile = undefined;
  }

  private async stream(chunks: AsyncIterable<Buffer>): Promise<void> {
    let fh;
    try {
      fh = await open(this.path, "w");
    } catch (err) {
      const fd = ownFdOf(this.path);
      if ((err as NodeJS.ErrnoException).code !== "ENXIO" || fd === undefined) throw err;
      // A socket (e.g. the stdout a Node parent gives its child) cannot be reopened by path.
      await writeAll(chunks, fd === 1 ? process.stdout : fd === 2 ? process.stderr : new Socket({ fd, readable: false, writable: true }));
      return;
    }
    await pipeline(Readable.from(chunks), fh.createWriteStream());
  }

  /** Removes the blob folder and any half-written temp file. Safe to call twice. */
  async discard(): Promise<void> {
    await this.removeTempFile();
    await rm(this.blobDir, { recursive: true, force: true });
  }

  private async removeTempFile(): Promise<void> {
    if (this.appender && !this.appender.closed) {
      this.appender.destroy();
      await once(this.appender, "close").catch(() => undefined);
    }
    if (this.tempFile !== undefined) await rm(this.tempFile, { force: true });
    this.tempFile = undefined;
  }
}

function existingArchiveError(path: string, label: string): ImgcopyError {
  return new UnsupportedError(`${label}: ${path} exists and is not empty; docker-archive does not modify existing archives (remove it first)`);
}

async function tempBlobDir(env: NodeJS.ProcessEnv | undefined): Promise<string> {
  return mkdtemp(join(env?.TMPDIR || tmpdir(), "imgcopy-docker-archive-"));
}

/** Writes into a stream we must not end or close (process.stdout), honouring backpressure. */
async function writeAll(chunks: AsyncIterable<Buffer>, dest: Writable): Promise<void> {
  let onError: (err: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (onError = reject));
  failed.catch(() => {});
  dest.on("error", onError);
  try {
    for await (const chunk of chunks) {
      if (!dest.write(chunk)) await Promise.race([once(dest, "drain"), failed]);
    }
    await Promise.race([new Promise<void>((res, rej) => dest.write(Buffer.alloc(0), (err) => (err ? rej(err) : res()))), failed]);
  } finally {
    dest.off("error", onError);
  }
}
