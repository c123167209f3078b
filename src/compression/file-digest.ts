// The digest of a compressed file's uncompressed content: how a destination checks that a blob the
// blob-info cache names really holds the DiffID it is said to hold.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import type { CompressionAlgorithm, Digest } from "../types.js";
import { createDecompressor } from "./codec-streams.js";

/** sha256 of the file decompressed; undefined when it is missing or not valid `algorithm` data. */
export async function uncompressedDigestOfFile(path: string, algorithm: CompressionAlgorithm): Promise<Digest | undefined> {
  const hash = createHash("sha256");
  try {
    await pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), await createDecompressor(algorithm, path), async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) hash.update(chunk);
    });
  } catch {
    return undefined;
  }
  return `sha256:${hash.digest("hex")}`;
}
