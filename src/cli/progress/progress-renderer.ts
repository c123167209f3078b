// Chooses how a copy's progress events are shown on stderr: live bars on a terminal, one line per
// finished item otherwise, JSON lines on request, or nothing.
import type { ProgressEvent } from "../../types.js";
import type { ProgressMode } from "../global-options.js";
import { ProgressBars } from "./progress-bars.js";
import { ProgressJsonLines } from "./progress-json.js";
import { ProgressLines } from "./progress-lines.js";

export interface ProgressRenderer {
  onEvent(event: ProgressEvent): void;
  /** Draws the final state and stops any timer. Safe to call twice. */
  finish(): void;
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function createProgressRenderer(mode: ProgressMode, quiet: boolean, out: ProgressOutput): ProgressRenderer {
  const chosen = quiet ? "none" : mode === "auto" ? (out.isTTY ? "bars" : "lines") : mode;
  switch (chosen) {
    case "bars":
      return new ProgressBars(out);
    case "lines":
      return new ProgressLines(out);
    case "json":
      return new ProgressJsonLines(out);
    case "none":
      return { onEvent: () => {}, finish: () => {} };
  }
}
