// Live progress on a terminal: one row per item, redrawn in place with ANSI cursor moves, at most
// once per interval so that a fast copy does not spend its time drawing.
import type { ProgressEvent } from "../../types.js";
import { formatBytes, itemKey, itemTitle } from "./progress-label.js";
import type { ProgressOutput, ProgressRenderer } from "./progress-renderer.js";

const INTERVAL_MS = 100;
const CURSOR_UP = (n: number): string => `\x1b[${n}A`;
const CLEAR_LINE = "\x1b[2K";

interface Row {
  kind: ProgressEvent["kind"];
  title: string;
  bytes: number;
  total: number;
  state: ProgressEvent["state"];
}

export class ProgressBars implements ProgressRenderer {
  private readonly rows = new Map<string, Row>();
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastDraw = 0;

  constructor(private readonly out: ProgressOutput) {}

  onEvent(event: ProgressEvent): void {
    const key = itemKey(event);
    const row = this.rows.get(key);
    if (row) {
      // A late "progress" must not undo "done".
      if (row.state !== "done" && row.state !== "skipped") Object.assign(row, { bytes: event.bytes, total: event.total, state: event.state });
    } else {
      this.rows.set(key, { kind: event.kind, title: itemTitle(event), bytes: event.bytes, total: event.total, state: event.state });
    }
    this.schedule();
  }

  finish(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.rows.size > 0) this.draw();
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, INTERVAL_MS - (Date.now() - this.lastDraw));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, wait);
    this.timer.unref();
  }

  private draw(): void {
    this.lastDraw = Date.now();
    const width = Math.max(40, this.out.columns ?? 80);
    let text = this.drawnLines > 0 ? CURSOR_UP(this.drawnLines) : "";
    for (const row of this.rows.values()) {
      // Cut to the width: a wrapped line would break the cursor arithmetic.
      text += `\r${CLEAR_LINE}${renderRow(row, width).slice(0, width - 1)}\n`;
    }
    this.drawnLines = this.rows.size;
    this.out.write(text);
  }
}

export function renderRow(row: Row, width: number): string {
  if (row.kind === "image") return row.state === "done" ? `${row.title} done` : row.title;
  if (row.state === "done") return row.title.startsWith("Copying") ? `${row.title} done` : row.title;
  if (row.state === "skipped") return `${row.title} skipped: already exists`;
  if (!row.title.startsWith("Copying")) return row.title;
  if (row.total <= 0) return `${row.title} ${formatBytes(row.bytes)}`;
  const counts = `${formatBytes(row.bytes)} / ${formatBytes(row.total)}`;
  const barWidth = Math.min(40, Math.max(10, width - row.title.length - counts.length - 6));
  const filled = Math.min(barWidth, Math.floor((row.bytes / row.total) * barWidth));
  const bar = `[${"=".repeat(filled)}${filled < barWidth ? ">" : ""}${" ".repeat(Math.max(0, barWidth - filled - 1))}]`;
  return `${row.title} ${bar} ${counts}`;
}
