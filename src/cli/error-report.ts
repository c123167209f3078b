// The one place that turns an error into what the user sees and the exit code the process returns.
import { AbortedError, EXIT_CODES, describeFsError, isImgcopyError } from "../errors.js";

/** A copy stopped by SIGINT or SIGTERM: exits 128 + the signal number, like a shell would report. */
export class InterruptedError extends AbortedError {
  readonly signal: NodeJS.Signals;
  constructor(signal: NodeJS.Signals, options?: { cause?: unknown; detail?: string }) {
    super(`interrupted by ${signal}${options?.detail ?? "; the destination was left as it was"}`, options);
    this.signal = signal;
  }
}

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };
/** 128 + SIGPIPE: what a shell reports for a writer whose reader went away (`imgcopy ... | head -c 10`). */
export const EXIT_BROKEN_PIPE = 141;
export const EXIT_USAGE = EXIT_CODES.EUSAGE;

/** yargs' own errors: unknown options, missing arguments, bad choices. */
export function isUsageError(err: unknown): boolean {
  return err instanceof Error && err.name === "YError";
}

export interface ErrorReport {
  /** Lines for stderr, without trailing newlines. */
  lines: string[];
  exitCode: number;
}

/** What to print (one line, or the stack and causes with `debug`) and the exit code for `err`. */
export function describeError(err: unknown, debug: boolean): ErrorReport {
  if (err instanceof InterruptedError) {
    return { lines: [`imgcopy: ${err.message}`, ...details(err, debug)], exitCode: SIGNAL_EXIT[err.signal] ?? EXIT_CODES.EABORT };
  }
  if (isUsageError(err)) {
    return {
      lines: [`imgcopy: ${yargsMessage((err as Error).message)} (see "imgcopy --help")`, ...details(err, debug)],
      exitCode: EXIT_CODES.EUSAGE,
    };
  }
  if (hasCode(err, "EPIPE")) {
    // The reader of our output went away: one line (the transport's own when it gave one), no stack.
    const text = isImgcopyError(err) ? oneLine(err.message) : "the output's reader closed the pipe early";
    return { lines: [`imgcopy: ${text}`, ...details(err, debug)], exitCode: EXIT_BROKEN_PIPE };
  }
  if (isImgcopyError(err)) {
    const text = err.code === "EUSAGE" ? `${yargsMessage(err.message)} (see "imgcopy --help")` : oneLine(err.message);
    return { lines: [`imgcopy: ${text}`, ...details(err, debug)], exitCode: EXIT_CODES[err.code] };
  }
  const sys = err as NodeJS.ErrnoException | undefined;
  if (sys && typeof sys === "object" && typeof sys.code === "string" && typeof sys.syscall === "string") {
    // A system error that escaped its module: still one line naming the path.
    const mapped = describeFsError(err, sys.path ?? sys.syscall);
    return { lines: [`imgcopy: ${oneLine(mapped.message)}`, ...details(err, debug)], exitCode: EXIT_CODES[mapped.code] };
  }
  const message = err instanceof Error ? err.message : String(err);
  const hint = debug ? "" : " (run with --debug for details)";
  return { lines: [`imgcopy: ${oneLine(message)}${hint}`, ...details(err, debug)], exitCode: 1 };
}

/** A message spread over lines (yargs' "Invalid values:\n  Argument: ...", JSON.parse quoting a "{\n"), joined into one. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim() || "unknown error";
}

/** yargs' message on one line; "Unknown arguments: a-b, aB" (each name twice, kebab and camel) said once, as what it is. */
function yargsMessage(text: string): string {
  const unknown = /^Unknown arguments?: (.*)$/s.exec(text.trim());
  if (!unknown) return oneLine(text);
  const names = [...new Set(unknown[1]!.split(", ").map((n) => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)))];
  return `unexpected argument${names.length > 1 ? "s" : ""}: ${names.join(", ")}`;
}

/** Whether `err` or one of its causes is a system error with `code`. */
function hasCode(err: unknown, code: string): boolean {
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 10; depth++) {
    if ((cur as NodeJS.ErrnoException).code === code) return true;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return false;
}

/** With --debug: the stack, then each cause's. */
function details(err: unknown, debug: boolean): string[] {
  if (!debug) return [];
  const out: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && depth < 10; depth++) {
    const text = cur instanceof Error ? (cur.stack ?? cur.message) : String(cur);
    out.push(depth === 0 ? text : `caused by: ${text}`);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return out;
}
