// `--progress json`: the ProgressEvents themselves, one JSON object per line, for programs.
import type { ProgressEvent } from "../../types.js";
import { itemKey } from "./progress-label.js";
import type { ProgressOutput, ProgressRenderer } from "./progress-renderer.js";

// "progress" events of one item are thinned to one per interval; every other state is kept.
const INTERVAL_MS = 100;

export class ProgressJsonLines implements ProgressRenderer {
  private readonly lastWrite = new Map<string, number>();

  constructor(private readonly out: ProgressOutput) {}

  onEvent(event: ProgressEvent): void {
    const key = itemKey(event);
    if (event.state === "progress") {
      const now = Date.now();
      if (now - (this.lastWrite.get(key) ?? 0) < INTERVAL_MS) return;
      this.lastWrite.set(key, now);
    }
    this.out.write(`${JSON.stringify(event)}\n`);
  }

  finish(): void {}
}
