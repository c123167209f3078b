// Start-up stays small: --version, --help and `transports` import no transport module, no copy
// engine and no tar or compression code, however many plugins are installed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { requireTool, run, tempDir } from "../helpers/tools.js";
import { cleanEnv, fixturePlugin, imgcopy } from "./run-imgcopy.js";

const TRACE_HOOK = new URL("./module-trace-register.mjs", import.meta.url).href;
const HEAVY = /\/transports\/(?!plugin\.json)|\/src\/copy\/|\/src\/compression\/|\/src\/manifest\/|tar-stream|zstd|fixtures\/plugins\/.*\.js$/;

let work: { path: string; cleanup: () => Promise<void> };
before(async () => {
  work = await tempDir();
});
after(async () => {
  await work.cleanup();
});

/** The exit code of `imgcopy ...args` and the module URLs it loaded (with two test plugins installed). */
async function traced(args: string[]): Promise<{ code: number | null; loaded: string[] }> {
  const trace = join(work.path, `trace-${++runs}.txt`);
  const env = cleanEnv(work.path, { IMGCOPY_PLUGINS: `${fixturePlugin("tarball")}:${fixturePlugin("throws-on-import")}`, IMGCOPY_TRACE_FILE: trace });
  const r = await imgcopy(args, { env, preload: [TRACE_HOOK] });
  return { code: r.code, loaded: (await readFile(trace, "utf8")).split("\n").filter((l) => l !== "") };
}
let runs = 0;

describe("start-up", () => {
  for (const args of [["--version"], ["--help"], ["transports"], ["transports", "--json"]]) {
    it(`imgcopy ${args.join(" ")} loads no transport, engine or tar code`, async () => {
      const { code, loaded } = await traced(args);
      assert.equal(code, 0);
      assert.ok(loaded.some((u) => u.endsWith("/src/cli/main.cts")), "the trace saw the command itself");
      assert.deepEqual(loaded.filter((u) => HEAVY.test(u)), []);
    });
  }

  it("a command that names a transport does load it (the trace can tell)", async () => {
    // Inspecting a layout that does not exist fails, but only after importing the oci transport.
    const { code, loaded } = await traced(["inspect", `oci:${join(work.path, "absent")}`]);
    assert.equal(code, 3);
    assert.ok(loaded.some((u) => u.endsWith("/transports/oci/index.ts")));
    assert.ok(loaded.some((u) => HEAVY.test(u)));
  });
});

describe("start-up of a read", () => {
  // The writer's side of a transport (locks, compression, blob writer) and the copy engine are for copies only.
  const WRITE_SIDE = /\/transports\/oci\/destination\.ts$|\/src\/copy\/|\/src\/compression\/|\/node_modules\/yargs\//;

  it("imgcopy inspect oci: loads the oci source, not its destination, the engine or yargs", async () => {
    requireTool("umoci");
    const layout = join(work.path, "layout");
    await run("umoci", ["init", "--layout", layout]);
    await run("umoci", ["new", "--image", `${layout}:t`]);
    const { code, loaded } = await traced(["inspect", `oci:${layout}:t`]);
    assert.equal(code, 0);
    assert.ok(loaded.some((u) => u.endsWith("/transports/oci/source.ts")), "the trace saw the oci source");
    assert.deepEqual(loaded.filter((u) => WRITE_SIDE.test(u)), []);
  });
});

/** Runs `imgcopy transports` with `nodeFlags` and the probe module preloaded; the number the probe wrote. */
async function probeAfterCommand(probeModule: string, nodeFlags: string[]): Promise<number> {
  const probe = join(work.path, `probe-${++runs}.txt`);
  const r = await imgcopy(["transports"], { env: cleanEnv(work.path, { IMGCOPY_PROBE_FILE: probe }), preload: [probeModule], nodeFlags });
  assert.equal(r.code, 0, r.stderr);
  return Number(await readFile(probe, "utf8"));
}

describe("the bin's semi-space cap", () => {
  const PROBE = new URL("./semi-space-probe.mjs", import.meta.url).href;
  const FLAGS = shebangNodeFlags();
  /** New space's size (bytes) after the command ran and the probe churned the young generation. */
  const youngGeneration = (nodeFlags: string[]): Promise<number> => probeAfterCommand(PROBE, nodeFlags);

  it("the shebang sets --max-semi-space-size", () => {
    assert.ok(FLAGS.some((f) => f.startsWith("--max-semi-space-size=")), `shebang flags: ${FLAGS.join(" ")}`);
  });

  it("still holds after main.cts puts the flag's default back (for the built-in code cache)", async () => {
    const capped = await youngGeneration(FLAGS);
    const semi = Number(FLAGS.find((f) => f.startsWith("--max-semi-space-size="))!.split("=")[1]);
    assert.ok(capped <= 2 * semi * 2 ** 20, `new space ${capped} bytes with ${FLAGS.join(" ")}`);
    // The probe can tell: without the flag the same churn grows new space past the cap.
    assert.ok((await youngGeneration([])) > 2 * semi * 2 ** 20, "new space did not grow without the flag");
  });
});

describe("the bin's old-generation start", () => {
  const PROBE = new URL("./old-space-probe.mjs", import.meta.url).href;
  const FLAGS = shebangNodeFlags();
  /** Full collections it took to fill the heap to 24 MiB, after the command ran with `nodeFlags`. */
  const fullCollections = (nodeFlags: string[]): Promise<number> => probeAfterCommand(PROBE, nodeFlags);

  it("the shebang sets --initial-old-space-size", () => {
    assert.ok(FLAGS.some((f) => f.startsWith("--initial-old-space-size=")), `shebang flags: ${FLAGS.join(" ")}`);
  });

  it("still holds after main.cts puts the flag's default back: no full collection below its size", async () => {
    assert.equal(await fullCollections(FLAGS), 0, `with ${FLAGS.join(" ")}`);
    // The probe can tell: without the flag V8's own smaller start makes it collect.
    const without = FLAGS.filter((f) => !f.startsWith("--initial-old-space-size="));
    assert.ok((await fullCollections(without)) > 0, `no full collection with ${without.join(" ")}`);
  });
});

/** The node flags of src/cli/main.cts's shebang (#!/usr/bin/env -S node FLAGS). */
function shebangNodeFlags(): string[] {
  const line = readFileSync(new URL("../../src/cli/main.cts", import.meta.url), "utf8").split("\n", 1)[0]!;
  const at = line.indexOf(" -S node ");
  return at < 0 ? [] : line.slice(at + " -S node ".length).trim().split(/\s+/);
}

describe("the bin is CommonJS", () => {
  // Node's ES module loader costs ~15-20 ms to start on Node 20; --version has no module to load.
  const BIN = fileURLToPath(new URL("../../dist/src/cli/main.cjs", import.meta.url));

  it("imgcopy --version (the built bin) answers without starting Node's ES module loader", async () => {
    assert.ok(existsSync(BIN), `${BIN} is missing: run "npm run build" (npm test does)`);
    const probe = join(work.path, "module-load-list.cjs");
    const list = join(work.path, "module-load-list.txt");
    await writeFile(probe, `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n")));\n`);
    const r = spawnSync(process.execPath, ["-r", probe, BIN, "--version"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^imgcopy version \S+ \(plugin API \S+\)\n$/);
    const loaded = (await readFile(list, "utf8")).split("\n");
    assert.ok(loaded.includes("NativeModule fs"), "the probe saw the built-in modules");
    // (internal/modules/esm/utils is part of every start; the loader and its module jobs are not.)
    assert.deepEqual(loaded.filter((m) => /internal\/modules\/esm\/(loader|module_job)$/.test(m)), []);
  });
});
