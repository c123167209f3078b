// Plain progress for logs and pipes: one line per item when it completes, nothing in between.
import type { ProgressEvent } from "../../types.js";
import { itemKey, itemTitle } from "./progress-label.js";
import type { ProgressOutput, ProgressRenderer } from "./progress-renderer.js";

export class ProgressLines implements ProgressRenderer {
  private readonly announced = new Set<string>();

  constructor(private readonly out: ProgressOutput) {}

  onEvent(event: ProgressEvent): void {
    const title = itemTitle(event);
    if (event.kind === "image" || event.kind === "manifest" || event.kind === "signatures") {
      // Announced once, when it begins (a list copy writes one manifest per image: each has its line).
      const key = itemKey(event);
      if (this.announced.has(key)) return;
      this.announced.add(key);
      this.out.write(`${title}\n`);
      return;
    }
    if (event.state === "done") this.out.write(`${title} done\n`);
    else if (event.state === "skipped") this.out.write(`${title} skipped: already exists\n`);
  }

  finish(): void {}
}
