// Buffers a producer lends down a stream and may get back for reuse: a layer's tar batches reach the
// gzip stage, which copies every chunk into its own blocks at once, so the batch can be filled again
// instead of becoming 256 KiB of external garbage (~370 MB of it per export of the bench container).
//
// Ownership rule. A lent buffer is given back only by a stage that (1) has copied what it needs out of
// it, (2) is the only one the buffer was passed to (every stage before it passes chunks on unchanged and
// forgets them: counting, hashing, joining small chunks), and (3) does not pass it on. A stage that
// keeps a chunk (a file or socket write, a tee into a second stream) never gives it back: the buffer is
// then garbage as any other, so a producer's buffer can be refilled only after it reached such a stage.
// A buffer not lent is never taken: giveBack() answers false and the caller treats it as garbage.

/** Each lent buffer, and how to return it to the producer that lent it. */
const lenders = new WeakMap<Buffer, (chunk: Buffer) => void>();

/** `chunk` leaves its producer; `giveBack(chunk)` by its last reader calls `back(chunk)`. */
export function lend(chunk: Buffer, back: (chunk: Buffer) => void): void {
  lenders.set(chunk, back);
}

/**
 * The caller has copied `chunk` and holds no reference to it, nor passed it on (see the rule above):
 * a lent buffer goes back to its producer (true), anything else is left to the GC (false). A buffer
 * is returned at most once per lending.
 */
export function giveBack(chunk: Buffer): boolean {
  const back = lenders.get(chunk);
  if (back === undefined) return false;
  lenders.delete(chunk);
  back(chunk);
  return true;
}
