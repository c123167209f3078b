// Keeps undici's HTTP parser (llhttp, WebAssembly) on V8's baseline compiler (Liftoff).
// With V8's dynamic tiering its hot functions are recompiled by TurboFan on background threads
// (15 functions, one of them ~290 ms of CPU and ~30 MB, measured with --trace-wasm-compilation-times
// on a 77 MB pull), and Node waits for those jobs at exit, while the baseline code parses what a
// registry sends as fast. So `--liftoff-only` is set at undici's first connection (its
// "beforeConnect" diagnostics event), before it compiles the parser, and stays: clearing it
// afterwards with the tier-up flags it implies brings the TurboFan jobs back.
// Set at start-up instead (as the CLI did), the flag costs every built-in module loaded after it
// its code cache (V8 checks the cache against a hash of the flags): ~20 ms of a pull's CPU before
// its first request. Set here, the modules are loaded by then.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { setFlagsFromString } from "node:v8";

const BEFORE_CONNECT = "undici:client:beforeConnect";

let armed = false;

function beforeFirstConnect(): void {
  setFlagsFromString("--liftoff-only");
  unsubscribe(BEFORE_CONNECT, beforeFirstConnect);
}

/** Arms the watch, once per process. */
export function compileHttpParserOnBaseline(): void {
  if (armed) return;
  armed = true;
  subscribe(BEFORE_CONNECT, beforeFirstConnect);
}
