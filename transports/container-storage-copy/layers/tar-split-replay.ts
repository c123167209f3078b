// Replays a layer's tar-split: raw segments verbatim, file contents from the layer's directories.
// The result is bit-for-bit the tar the layer was applied from, so it is checked against the
// record's diff-digest and diff-size before its last bytes leave; the files' CRC-64/ISO sums are
// only read to name the file that changed (or when the record has no digest).
import { closeSync } from "node:fs";
import { AbortedError, CorruptInputError, DigestMismatchError } from "../../../src/errors.js";
import { Crc64Iso } from "./crc64-iso.js";
import { layerHash } from "./hash-thread.js";
import { bigFileBatches, readContent, READ_AHEAD_MIN } from "./file-content.js";
import type { LayerDirectory, LayerFile } from "./layer-file-opener.js";
import { TarBatches } from "./tar-batches.js";
import { readTarSplit, readTarSplitChunks } from "./tar-split-entries.js";

export interface TarSplitReplayOptions {
  layerId: string;
  tarSplitPath: string;
  /** The layer's own directory: file contents are looked up there first. */
  ownDir: LayerDirectory;
  /** Then (overlay) its lowers', found on first use; none for vfs, whose trees are complete. */
  lowerDirs?: () => Promise<LayerDirectory[]>;
  /** From the layer record; checked at the end when present. */
  diffDigest?: string;
  diffSize?: number;
  signal?: AbortSignal;
}

/** Finds and opens a listed file: the layer's own directory first, then its lowers (loaded once). */
class ContentFiles {
  private lowers: LayerDirectory[] | undefined;

  constructor(private readonly opts: TarSplitReplayOptions) {}

  /** The open file, synchronously when it is in the layer's own directory (nearly always). */
  open(name: Buffer, what: string): LayerFile | Promise<LayerFile> {
    return this.opts.ownDir.openRegular(name, what) ?? this.openInLowers(name, what);
  }

  private async openInLowers(name: Buffer, what: string): Promise<LayerFile> {
    this.lowers ??= this.opts.lowerDirs ? await this.opts.lowerDirs() : [];
    for (const dir of this.lowers) {
      const file = dir.openRegular(name, what);
      if (file) return file;
    }
    throw new CorruptInputError(`${what}: ${name.toString("utf8")}: file listed in the tar-split is missing from the layer`);
  }

  /** Closes the directories the lookups keep open (the layer's own, and its lowers'). */
  close(): void {
    this.opts.ownDir.close();
    for (const dir of this.lowers ?? []) dir.close();
  }
}

function requireChecksum(name: Buffer, size: number, crc: Buffer | null, what: string): void {
  if (crc === null) throw new CorruptInputError(`${what}: ${name.toString("utf8")}: the tar-split has no checksum for ${size} bytes of content`);
}

function checkListedSize(file: LayerFile, name: Buffer, size: number, what: string): void {
  if (file.size !== size) throw new CorruptInputError(`${what}: ${name.toString("utf8")}: file is ${file.size} bytes, the tar-split says ${size}`);
}

function shorter(name: Buffer, read: number, size: number, what: string): CorruptInputError {
  return new CorruptInputError(`${what}: ${name.toString("utf8")}: file is shorter (${read} bytes) than the tar-split says (${size})`);
}

/**
 * After a digest mismatch: the first file whose content no longer matches its CRC-64 in the
 * tar-split, so the error can name it; undefined when every file matches (a segment changed).
 */
async function findChangedFile(opts: TarSplitReplayOptions): Promise<string | undefined> {
  const what = `layer ${opts.layerId}`;
  const files = new ContentFiles(opts);
  try {
    return await firstChangedFile(opts, files, what);
  } finally {
    files.close();
  }
}

async function firstChangedFile(opts: TarSplitReplayOptions, files: ContentFiles, what: string): Promise<string | undefined> {
  for await (const entry of readTarSplit(opts.tarSplitPath, what, opts.signal)) {
    if (entry.type !== "file" || entry.size === 0) continue;
    requireChecksum(entry.name, entry.size, entry.crc, what);
    const file = await files.open(entry.name, what);
    try {
      checkListedSize(file, entry.name, entry.size, what);
      const sum = new Crc64Iso();
      let read = 0;
      for await (const chunk of readContent(file.fd, entry.size, what, opts.signal)) {
        read += chunk.length;
        sum.update(chunk);
      }
      if (read !== entry.size) throw shorter(entry.name, read, entry.size, what);
      if (!sum.digest().equals(entry.crc as Buffer)) return entry.name.toString("utf8");
    } finally {
      closeSync(file.fd);
    }
  }
  return undefined;
}

/** The replayed tar, as batches (see TarBatches): segments copied, contents read straight into the batches (big files ahead, on the thread pool). */
async function* replayedBatches(opts: TarSplitReplayOptions, what: string): AsyncGenerator<Buffer> {
  const files = new ContentFiles(opts);
  try {
    yield* replayedBatchesWith(opts, files, what);
  } finally {
    files.close();
  }
}

async function* replayedBatchesWith(opts: TarSplitReplayOptions, files: ContentFiles, what: string): AsyncGenerator<Buffer> {
  const out = new TarBatches();
  const signal = opts.signal;
  const stopped = (): void => {
    if (signal?.aborted) throw new AbortedError(`${what}: aborted`);
  };
  for await (const entries of readTarSplitChunks(opts.tarSplitPath, what, signal)) {
    for (const entry of entries) {
      if (entry.type === "segment") {
        for (const batch of out.append(entry.payload)) yield batch;
        continue;
      }
      if (entry.size === 0) continue;
      requireChecksum(entry.name, entry.size, entry.crc, what);
      const opened = files.open(entry.name, what);
      const file = opened instanceof Promise ? await opened : opened;
      try {
        checkListedSize(file, entry.name, entry.size, what);
        if (entry.size >= READ_AHEAD_MIN) {
          const read = yield* bigFileBatches(out, file.fd, entry.size, what, signal);
          if (read !== entry.size) throw shorter(entry.name, read, entry.size, what);
          continue;
        }
        const reading = out.readFile(file.fd, entry.size, stopped);
        for (let step = reading.next(); ; step = reading.next()) {
          if (step.done) {
            if (step.value !== entry.size) throw shorter(entry.name, step.value, entry.size, what);
            break;
          }
          yield step.value;
        }
      } finally {
        closeSync(file.fd);
      }
    }
  }
  const last = out.flush();
  if (last) yield last;
}

/**
 * The layer's tar stream, as batches. The whole tar's sha256 against the record's diff digest
 * proves every byte (one hash per byte, on the hashing thread when there is one); the per-file
 * CRC-64s are only computed after a mismatch, to name the file that changed.
 */
export async function* replayTarSplit(opts: TarSplitReplayOptions): AsyncGenerator<Buffer> {
  const what = `layer ${opts.layerId}`;
  const checksDigest = opts.diffDigest !== undefined && opts.diffDigest.startsWith("sha256:");
  const hash = layerHash();
  let total = 0;
  // One batch is held back so that a digest mismatch fails the stream before its end leaves.
  let held: Buffer | undefined;
  let complete = false;
  try {
    for await (const batch of replayedBatches(opts, what)) {
      hash.update(batch);
      total += batch.length;
      if (held) yield held;
      held = batch;
    }
    complete = true;
  } finally {
    if (!complete) hash.discard();
  }
  const actual = await hash.digest();
  const sizeWrong = opts.diffSize !== undefined && opts.diffSize >= 0 && total !== opts.diffSize;
  const digestWrong = checksDigest && actual !== opts.diffDigest;
  if (sizeWrong || digestWrong || !checksDigest) {
    // Without a digest to check against, the CRC-64s are the only proof: check them all.
    const changed = await findChangedFile(opts);
    if (changed !== undefined) throw new CorruptInputError(`${what}: ${changed}: content does not match tar-split checksum`);
  }
  if (sizeWrong) throw new DigestMismatchError(`${what} (tar-split replay)`, `size ${opts.diffSize}`, `size ${total}`);
  if (digestWrong) throw new DigestMismatchError(`${what} (tar-split replay)`, opts.diffDigest as string, actual);
  if (held) yield held;
}
