// Preloaded into the command (--import): when it exits, churns through short-lived objects so the
// young generation grows to its cap, then writes new space's size in bytes to $IMGCOPY_PROBE_FILE.
import { writeFileSync } from "node:fs";
import process from "node:process";
import { getHeapSpaceStatistics } from "node:v8";

process.on("exit", () => {
  let keep = [];
  for (let i = 0; i < 3e6; i++) {
    keep.push({ i, s: `x${i}` });
    if (keep.length > 20000) keep = [];
  }
  const young = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  writeFileSync(process.env.IMGCOPY_PROBE_FILE, String(young?.space_size ?? -1));
});
