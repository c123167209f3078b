// Keeps undici's HTTP parser (llhttp, WebAssembly) on V8's baseline compiler, and only it.
// With V8's dynamic tiering its hot functions are recompiled by TurboFan on background threads
// (~290 ms of CPU and ~30 MB for one function, measured with --trace-wasm-compilation-times), and
// Node waits for those jobs at exit, while the baseline code (Liftoff) parses what a registry sends
// as fast. V8 fixes a module's tiers when it compiles it, which undici does once per process, at its
// first HTTP/1.1 connection (between the "beforeConnect" and "connected" diagnostics events); so
// `--liftoff-only` is set just for those connections and put back to its default afterwards.
// Set for the whole run (as the CLI did), the flag also costs every built-in module loaded after
// it its code cache (V8 checks the cache against a hash of the flags): 30-60 ms of a pull's CPU.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { setFlagsFromString } from "node:v8";

const BEFORE_CONNECT = "undici:client:beforeConnect";
const CONNECTED = "undici:client:connected";
const CONNECT_ERROR = "undici:client:connectError";

let armed = false;
/** Connections under way since the first "beforeConnect" (the flag is on while there is one). */
let connecting = 0;

function beforeConnect(): void {
  if (connecting++ === 0) setFlagsFromString("--liftoff-only");
}

function connectFailed(): void {
  if (connecting > 0 && --connecting === 0) setFlagsFromString("--no-liftoff-only");
}

function connected(): void {
  // The first connection that got through has compiled the parser: nothing more to watch.
  connecting = 0;
  setFlagsFromString("--no-liftoff-only");
  unsubscribe(BEFORE_CONNECT, beforeConnect);
  unsubscribe(CONNECTED, connected);
  unsubscribe(CONNECT_ERROR, connectFailed);
}

/** Arms the watch, once per process; not when node was started with --liftoff-only (that stays as given). */
export function compileHttpParserOnBaseline(): void {
  if (armed) return;
  armed = true;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  if (given.some((a) => a === "--liftoff-only" || a === "--liftoff_only")) return;
  subscribe(BEFORE_CONNECT, beforeConnect);
  subscribe(CONNECTED, connected);
  subscribe(CONNECT_ERROR, connectFailed);
}
