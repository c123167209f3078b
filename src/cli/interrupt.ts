// SIGINT/SIGTERM during a copy: abort it through an AbortSignal so that the engine closes the
// destination without committing; a second signal exits at once.
import { InterruptedError } from "./error-report.js";

export interface Interrupt {
  readonly signal: AbortSignal;
  /** The signal received, if any. */
  received(): NodeJS.Signals | undefined;
  dispose(): void;
}

const EXIT_NOW: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
const GRACE_MS = 10_000;

export function abortOnSignals(signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"]): Interrupt {
  const controller = new AbortController();
  let got: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (got) {
      process.stderr.write(`imgcopy: ${sig} again: exiting without waiting for clean-up\n`);
      process.exit(EXIT_NOW[sig] ?? 130);
    }
    got = sig;
    controller.abort(new InterruptedError(sig));
    // Should anything outlive the clean-up and keep the process alive, leave anyway (unref: never delays a clean exit).
    setTimeout(() => process.exit(EXIT_NOW[sig] ?? 130), GRACE_MS).unref();
  };
  for (const s of signals) process.on(s, onSignal);
  return {
    signal: controller.signal,
    received: () => got,
    dispose: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}

/** Runs `work` (which does not write anything) so that SIGINT/SIGTERM abort it, e.g. a wait for a store's lock. */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const interrupt = abortOnSignals();
  try {
    return await work(interrupt.signal);
  } catch (err) {
    const sig = interrupt.received();
    if (sig) throw new InterruptedError(sig, { cause: err, detail: "" });
    throw err;
  } finally {
    interrupt.dispose();
  }
}
