// Replays a layer's tar-split: raw segments verbatim, file contents from the layer's directories.
// The result is bit-for-bit the tar the layer was applied from, so it is checked against the
// record's diff-digest and diff-size before its last bytes leave; the files' CRC-64/ISO sums are
// only read to name the file that changed (or when the record has no digest).
import { createHash } from "node:crypto";
import { closeSync } from "node:fs";
import { CorruptInputError, DigestMismatchError } from "../../../src/errors.js";
import { Crc64Iso } from "./crc64-iso.js";
import { readContent, type ReadBuffers } from "./file-content.js";
import type { LayerDirectory, LayerFile } from "./layer-file-opener.js";
import { readTarSplit } from "./tar-split-entries.js";

export interface TarSplitReplayOptions {
  layerId: string;
  tarSplitPath: string;
  /** Where file contents are: the layer's own directory first, then (overlay) its lowers'. */
  contentDirs: () => AsyncIterable<LayerDirectory>;
  /** From the layer record; checked at the end when present. */
  diffDigest?: string;
  diffSize?: number;
  signal?: AbortSignal;
  /** Reused read buffers (two in turn, so the chunk held back stays intact); else fresh ones. */
  readBuffers?: ReadBuffers | undefined;
}

async function openContent(opts: TarSplitReplayOptions, name: Buffer, what: string): Promise<LayerFile> {
  for await (const dir of opts.contentDirs()) {
    const file = dir.openRegular(name, what);
    if (file) return file;
  }
  throw new CorruptInputError(`${what}: ${name.toString("utf8")}: file listed in the tar-split is missing from the layer`);
}

/** One file's content from the layer's directories, checked for its size (not its checksum: see below). */
async function* replayFile(opts: TarSplitReplayOptions, name: Buffer, size: number, crc: Buffer | null): AsyncGenerator<Buffer> {
  const what = `layer ${opts.layerId}`;
  const printable = name.toString("utf8");
  if (crc === null) throw new CorruptInputError(`${what}: ${printable}: the tar-split has no checksum for ${size} bytes of content`);
  const file = await openContent(opts, name, what);
  try {
    if (file.size !== size) {
      throw new CorruptInputError(`${what}: ${printable}: file is ${file.size} bytes, the tar-split says ${size}`);
    }
    let read = 0;
    for await (const chunk of readContent(file.fd, size, what, opts.signal, opts.readBuffers)) {
      read += chunk.length;
      yield chunk;
    }
    if (read !== size) throw new CorruptInputError(`${what}: ${printable}: file is shorter (${read} bytes) than the tar-split says (${size})`);
  } finally {
    closeSync(file.fd);
  }
}

/**
 * After a digest mismatch: the first file whose content no longer matches its CRC-64 in the
 * tar-split, so the error can name it; undefined when every file matches (a segment changed).
 */
async function findChangedFile(replayed: TarSplitReplayOptions): Promise<string | undefined> {
  const what = `layer ${replayed.layerId}`;
  // Fresh buffers: the reused ones may still hold the chunk the replay holds back.
  const opts = { ...replayed, readBuffers: undefined };
  for await (const entry of readTarSplit(opts.tarSplitPath, what, opts.signal)) {
    if (entry.type !== "file" || entry.size === 0) continue;
    const sum = new Crc64Iso();
    for await (const chunk of replayFile(opts, entry.name, entry.size, entry.crc)) sum.update(chunk);
    if (!sum.digest().equals(entry.crc as Buffer)) return entry.name.toString("utf8");
  }
  return undefined;
}

/**
 * The layer's tar stream, as chunks. The whole tar's sha256 against the record's diff digest proves
 * every byte (one hash per byte); the per-file CRC-64s are only computed after a mismatch, to name
 * the file that changed.
 */
export async function* replayTarSplit(opts: TarSplitReplayOptions): AsyncGenerator<Buffer> {
  const what = `layer ${opts.layerId}`;
  const checksDigest = opts.diffDigest !== undefined && opts.diffDigest.startsWith("sha256:");
  const hash = createHash("sha256");
  let total = 0;
  // One chunk is held back so that a digest mismatch fails the stream before its end leaves.
  let held: Buffer | undefined;
  const pass = function* (chunk: Buffer): Generator<Buffer> {
    if (chunk.length === 0) return;
    hash.update(chunk);
    total += chunk.length;
    if (held) yield held;
    held = chunk;
  };
  for await (const entry of readTarSplit(opts.tarSplitPath, what, opts.signal)) {
    if (entry.type === "segment") {
      yield* pass(entry.payload);
    } else if (entry.size > 0) {
      for await (const chunk of replayFile(opts, entry.name, entry.size, entry.crc)) yield* pass(chunk);
    }
  }
  const actual = `sha256:${hash.digest("hex")}`;
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
