// Big short-lived buffers (layer chunks from worker threads, gzip blocks and their output) live
// outside V8's heap. V8 frees them when its young generation fills, or when they pass 64 MiB since
// its last full collection; a main thread that moves data but allocates little JavaScript would keep
// ~64 MiB of dead buffers that way. So after every few MiB of such buffers a collection is asked
// for (mostly scavenges, now and then a full one), through the gc function that
// --expose-gc gives to a new context (the npm "expose-gc" way). Without it, nothing is done.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Dead external bytes between two young-generation collections (a scavenge: well under 1 ms). */
const MINOR_EVERY = 4 << 20;
/**
 * ... and between two full ones, for what survived a scavenge. A requested full collection is atomic
 * (the gc function finishes any incremental marking at once), ~10-15 ms of main thread plus V8's
 * helper threads, so they stay few: 32 MiB instead of 16 gave no measurable CPU gain (5 interleaved
 * pairs) for a higher peak, as 8/32 did before.
 */
const MAJOR_EVERY = 16 << 20;

type GcFunction = (options: { type: "major" | "minor"; execution: "async" | "sync" }) => unknown;

let collect: GcFunction | null | undefined;
let sinceLast = 0;

function gcFunction(): GcFunction | null {
  if (collect !== undefined) return collect;
  try {
    setFlagsFromString("--expose-gc");
    const fn = runInNewContext("gc") as unknown;
    collect = typeof fn === "function" ? (fn as GcFunction) : null;
  } catch {
    collect = null;
  }
  return collect;
}

let sinceMajor = 0;

/** `bytes` of external buffers have become garbage (or soon will): collect now and then. */
export function noteExternalGarbage(bytes: number): void {
  sinceLast += bytes;
  sinceMajor += bytes;
  if (sinceLast < MINOR_EVERY) return;
  sinceLast = 0;
  if (sinceMajor >= MAJOR_EVERY) {
    sinceMajor = 0;
    gcFunction()?.({ type: "major", execution: "async" });
  } else {
    gcFunction()?.({ type: "minor", execution: "sync" });
  }
}
