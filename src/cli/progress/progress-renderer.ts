// Chooses how a copy's progress events are shown on stderr: live bars on a terminal, one line per
// finished item otherwise, JSON lines on request, or nothing.
import type { ProgressEvent } from "../../types.js";
import type { ProgressMode } from "../global-options.js";

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

/** The renderer for `mode`; only its own module is imported (a --quiet copy loads none). */
export async function createProgressRenderer(mode: ProgressMode, quiet: boolean, out: ProgressOutput): Promise<ProgressRenderer> {
  const chosen = quiet ? "none" : mode === "auto" ? (out.isTTY ? "bars" : "lines") : mode;
  switch (chosen) {
    case "bars":
      return new (await import("./progress-bars.js")).ProgressBars(out);
    case "lines":
      return new (await import("./progress-lines.js")).ProgressLines(out);
    case "json":
      return new (await import("./progress-json.js")).ProgressJsonLines(out);
    case "none":
      return { onEvent: () => {}, finish: () => {} };
  }
}
