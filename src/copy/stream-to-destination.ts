// Streaming a chain of transforms into ImageDestination.putBlob, with failures flowing both ways.
import { PassThrough, type Readable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { IOError } from "../errors.js";
import type { BlobInfo } from "../types.js";

/**
 * Pipes `source` through `transforms` into the stream given to `put`, and waits for both. A failing
 * pipeline destroys what `put` reads; a failing `put` stops the pipeline. The pipeline's error wins,
 * as it is the cause when both fail. `what` names the blob for a destination that stops reading.
 */
export async function streamToDestination(
  source: Readable,
  transforms: Transform[],
  put: (stream: Readable) => Promise<BlobInfo>,
  signal: AbortSignal,
  what: string,
): Promise<BlobInfo> {
  const out = new PassThrough();
  // Failures are reported through the two promises; a destination that fails before reading (after
  // the pipeline has finished filling `out`) must not leave an unhandled 'error' event behind.
  out.on("error", () => undefined);
  const piping = pipeline([source, ...transforms, out], { signal });
  const putting = put(out).then(
    (stored) => {
      if (!out.readableEnded) {
        const err = new IOError(`${what}: the destination returned before reading the whole blob`);
        out.destroy(err);
        throw err;
      }
      return stored;
    },
    (err: unknown) => {
      out.destroy(err as Error);
      throw err;
    },
  );
  const [piped, stored] = await Promise.allSettled([piping, putting]);
  // A destination that stopped reading makes the pipeline fail with "premature close": its own error is the cause then.
  const prematureClose = piped.status === "rejected" && (piped.reason as NodeJS.ErrnoException)?.code === "ERR_STREAM_PREMATURE_CLOSE";
  if (prematureClose && stored.status === "rejected") throw stored.reason;
  if (piped.status === "rejected") throw piped.reason;
  if (stored.status === "rejected") throw stored.reason;
  return stored.value;
}
