// Registers module-trace-hooks.mjs: `node --import ./module-trace-register.mjs` records every module
// URL the process loads into the file named by IMGCOPY_TRACE_FILE.
import { register } from "node:module";
import { URL } from "node:url";

register(new URL("./module-trace-hooks.mjs", import.meta.url));
