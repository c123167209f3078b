// Running tasks with a concurrency limit, results in input order; the first failure stops the rest.

/**
 * Calls `task` for every item, at most `limit` at once. On the first failure the signal given to
 * running tasks is aborted, no new task starts, and once all have settled that first error is thrown.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  parent: AbortSignal,
): Promise<R[]> {
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) onParentAbort();
  else parent.addEventListener("abort", onParentAbort, { once: true });
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && !controller.signal.aborted && next < items.length) {
      const i = next++;
      try {
        results[i] = await task(items[i] as T, i, controller.signal);
      } catch (error) {
        if (!failure) {
          failure = { error };
          controller.abort(error);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  } finally {
    parent.removeEventListener("abort", onParentAbort);
  }
  if (failure) throw failure.error;
  parent.throwIfAborted();
  return results;
}
