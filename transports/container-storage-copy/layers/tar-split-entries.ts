// Reads a layer's <id>.tar-split.gz: gzip of JSON lines {type, name, name_raw, size, payload,
// position}. Streams line by line (never the whole file) and checks every field, since the file
// is input we did not write.
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { AbortedError, CorruptInputError, describeFsError } from "../../../src/errors.js";

/** Raw tar bytes (headers, padding, end of archive) to copy verbatim. */
export interface TarSplitSegment {
  type: "segment";
  payload: Buffer;
}

/** A file's content, to be read from the layer's files and checked against `crc`. */
export interface TarSplitFile {
  type: "file";
  name: Buffer;
  size: number;
  /** CRC-64/ISO, 8 bytes big-endian; null when the record has none (only valid for size 0). */
  crc: Buffer | null;
}

export type TarSplitEntry = TarSplitSegment | TarSplitFile;

/** One JSON line may not be longer than this: a hostile file must not exhaust memory. */
const MAX_LINE = 64 * 1024 * 1024;
/**
 * Standard base64 with padding, strictly. Node's decoder skips or stops at anything else, so a
 * string with a stray character decodes short: the decoded length (plus a look for the URL-safe
 * letters, which Node also takes) checks it without a regular expression over every header.
 */
export function decodeBase64(value: unknown, field: string, fail: (why: string) => never): Buffer {
  if (typeof value !== "string" || value.length % 4 !== 0 || value.includes("-") || value.includes("_")) fail(`${field} is not base64`);
  const decoded = Buffer.from(value, "base64");
  const padding = value.endsWith("==") ? 2 : value.endsWith("=") ? 1 : 0;
  if (decoded.length !== (value.length / 4) * 3 - padding) fail(`${field} is not base64`);
  return decoded;
}

function parseEntry(line: string, fail: (why: string) => never): TarSplitEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    fail("not JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("not a JSON object");
  const e = raw as Record<string, unknown>;
  if (e.type === 2) {
    const payload = e.payload === null || e.payload === undefined ? Buffer.alloc(0) : decodeBase64(e.payload, "payload", fail);
    return { type: "segment", payload };
  }
  if (e.type !== 1) fail(`unknown entry type ${JSON.stringify(e.type)}`);
  const size = e.size === undefined || e.size === null ? 0 : e.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) fail(`bad size ${JSON.stringify(e.size)}`);
  let name: Buffer;
  if (e.name_raw !== undefined && e.name_raw !== null && e.name_raw !== "") name = decodeBase64(e.name_raw, "name_raw", fail);
  else if (typeof e.name === "string") name = Buffer.from(e.name, "utf8");
  else fail("file entry without a name");
  const crc = e.payload === null || e.payload === undefined ? null : decodeBase64(e.payload, "payload", fail);
  if (crc !== null && crc.length !== 8) fail(`checksum of ${name.toString("utf8")} is ${crc.length} bytes, not 8`);
  return { type: "file", name, size, crc };
}

/** Bytes asked of the file and of gunzip at a time: a few large chunks, each holding many lines. */
const READ_CHUNK = 256 * 1024;

/**
 * The entries of a tar-split file, in order, a chunk's worth at a time (one await per ~256 KiB of
 * JSON, not per line). Errors name `what` and the file: CorruptInputError for bad gzip/JSON,
 * describeFsError for I/O.
 */
export async function* readTarSplitChunks(path: string, what: string, signal?: AbortSignal): AsyncGenerator<TarSplitEntry[]> {
  const source = createReadStream(path, { highWaterMark: READ_CHUNK });
  const gunzip = createGunzip({ chunkSize: READ_CHUNK });
  source.on("error", (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  let lineNo = 0;
  const fail = (why: string): never => {
    throw new CorruptInputError(`${what}: ${path}: line ${lineNo}: ${why}`);
  };
  // The start of a line that continues in the next chunk.
  let pending: Buffer[] = [];
  let pendingLength = 0;
  const parseLine = (line: string, into: TarSplitEntry[]): void => {
    lineNo++;
    if (line.trim() !== "") into.push(parseEntry(line, fail));
  };
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw new AbortedError(`${what}: aborted`);
      const entries: TarSplitEntry[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        if (pendingLength > 0) {
          pending.push(chunk.subarray(start, nl));
          parseLine(Buffer.concat(pending).toString("utf8"), entries);
          pending = [];
          pendingLength = 0;
        } else {
          parseLine(chunk.toString("utf8", start, nl), entries);
        }
        start = nl + 1;
      }
      if (start < chunk.length) {
        pending.push(chunk.subarray(start));
        pendingLength += chunk.length - start;
        if (pendingLength > MAX_LINE) fail(`a line is longer than ${MAX_LINE} bytes`);
      }
      if (entries.length > 0) yield entries;
    }
    if (pendingLength > 0) {
      const entries: TarSplitEntry[] = [];
      parseLine(Buffer.concat(pending).toString("utf8"), entries);
      if (entries.length > 0) yield entries;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === "string" && code.startsWith("Z_")) {
      throw new CorruptInputError(`${what}: ${path}: not a valid gzip file (${code})`, { cause: err });
    }
    throw describeFsError(err, `${what}: ${path}`);
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/** The entries of a tar-split file, one at a time (see readTarSplitChunks). */
export async function* readTarSplit(path: string, what: string, signal?: AbortSignal): AsyncGenerator<TarSplitEntry> {
  for await (const entries of readTarSplitChunks(path, what, signal)) yield* entries;
}
