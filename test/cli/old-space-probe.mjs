// Preloaded into the command (--import): when it exits, fills the heap with long-lived objects up to
// 24 MiB in use and writes to $IMGCOPY_PROBE_FILE how many full (mark-compact) collections that took.
import { writeFileSync } from "node:fs";
import process from "node:process";
import { GCProfiler, getHeapStatistics } from "node:v8";

process.on("exit", () => {
  const profiler = new GCProfiler();
  profiler.start();
  const keep = [];
  for (let i = 0; getHeapStatistics().used_heap_size < 24 * 2 ** 20; i++) {
    for (let j = 0; j < 1000; j++) keep.push({ i, j, s: `x${i}.${j}` });
  }
  const { statistics } = profiler.stop();
  writeFileSync(process.env.IMGCOPY_PROBE_FILE, String(statistics.filter((s) => s.gcType === "MarkSweepCompact").length));
});
