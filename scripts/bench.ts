// Benchmark: imgcopy against skopeo / buildah doing the same job, measured in the same run.
// Prints one row per job: median wall times, the ratio imgcopy / Go tool (< 1: we are faster),
// output sizes and peak RSS (max of the runs, from /usr/bin/time).
// Usage: npm run build && npm run bench [-- --runs 3 --scale 1 --quick --cli PATH --only WORD]
//   --quick: a smaller store (no python tree, 1 random file) and 1 run: for trying changes.
//   --cli PATH: time another build of imgcopy (e.g. a checkout of main) instead of ./dist.
//   --only WORD: only the jobs whose name contains WORD (repeatable).
//   --keep-extra-ca: keep NODE_EXTRA_CA_CERTS in the measured commands (left out by default: see ENV).
//   --big-layer MB: also push a container whose one layer is an MB-MiB file (half random, half
//     repetitive text) to the registry and pull it back, once each side (minutes for 1024): peak memory.
// Needs root (buildah with a vfs store), buildah, skopeo, docker-registry, /usr/bin/time. Takes a few minutes.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, cpSync, readFileSync, openSync, writeSync, closeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { startRegistry } from "../test/helpers/registry-server.js";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const QUICK = args.includes("--quick");
const RUNS = opt("runs", QUICK ? 1 : 3);
const SCALE = opt("scale", QUICK ? 0.25 : 1); // multiplies the random data added to the container
const cliAt = args.indexOf("--cli");
const CLI = resolve(cliAt >= 0 ? (args[cliAt + 1] as string) : "dist/src/cli/main.cjs");
const ONLY = args.flatMap((a, i) => (a === "--only" ? [args[i + 1] as string] : []));
const BIG_LAYER_MB = opt("big-layer", 0);

const work = mkdtempSync(join(tmpdir(), "imgcopy-bench-"));
const G = join(work, "g");
const R = join(work, "r");
const S = ["--root", G, "--runroot", R, "--storage-driver", "vfs"];
const BRACKET = `[vfs@${G}+${R}]`;
const RSS_FILE = join(work, "rss");
// The blob-info cache must not carry over from other runs of the machine: one per bench.
// NODE_EXTRA_CA_CERTS makes Node 20 parse that file at every start (~60 ms of CPU for the system bundle,
// which some machines, this one included, set for their own tooling); the Go tools never read it, so it
// is left out unless --keep-extra-ca asks for the machine's environment as it is.
const KEEP_EXTRA_CA = args.includes("--keep-extra-ca");
const ENV: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: join(work, "cache") };
if (!KEEP_EXTRA_CA && ENV.NODE_EXTRA_CA_CERTS !== undefined) {
  process.stderr.write(`bench: NODE_EXTRA_CA_CERTS (${ENV.NODE_EXTRA_CA_CERTS}) left out of the measured commands (--keep-extra-ca keeps it)\n`);
  delete ENV.NODE_EXTRA_CA_CERTS;
}

function sh(cmd: string, argv: string[]): string {
  return execFileSync(cmd, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26, env: ENV }).trim();
}

function fresh(path: string): string {
  rmSync(path, { recursive: true, force: true });
  return path;
}

interface Timing {
  ms: number;
  rssMiB: number;
}

/** Runs per job: RUNS, except for the --big-layer jobs (once each). */
let runsPerJob = RUNS;

/** One timed execution: wall time and peak RSS (from /usr/bin/time). */
function timeOnce(label: string, argv: string[]): Timing {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", "-o", RSS_FILE, ...argv], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", env: ENV });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${label}: ${argv.join(" ")} failed: ${r.stderr}`);
  return { ms, rssMiB: Number(readFileSync(RSS_FILE, "utf8").trim().split("\n").pop()) / 1024 };
}

/**
 * Flushes dirty pages (untimed) before a timed run: without it a run pays for the kernel writing back
 * what ran before it (the 1.2 GB store the setup just built, the previous run's output), and which
 * side pays depends on the order.
 */
function settle(): void {
  spawnSync("sync", [], { stdio: "ignore" });
}

/** The median and the peak RSS of several executions. */
function summary(samples: Timing[]): Timing {
  const ms = samples.map((t) => t.ms).sort((a, b) => a - b);
  return { ms: ms[Math.floor(ms.length / 2)]!, rssMiB: Math.max(...samples.map((t) => t.rssMiB)) };
}

function setup(): { ctr: string; image: string } {
  process.stderr.write(`building the benchmark store in ${work} ...\n`);
  const c1 = sh("buildah", [...S, "from", "scratch"]);
  const m1 = sh("buildah", [...S, "mount", c1]);
  cpSync("/usr/include", join(m1, "usr/include"), { recursive: true, verbatimSymlinks: true });
  sh("buildah", [...S, "commit", "-q", c1, "localhost/bench-base:1"]);
  const c2 = sh("buildah", [...S, "from", "localhost/bench-base:1"]);
  const m2 = sh("buildah", [...S, "mount", c2]);
  cpSync("/usr/share/locale", join(m2, "usr/share/locale"), { recursive: true, verbatimSymlinks: true });
  sh("buildah", [...S, "config", "--env", "BENCH=1", "--cmd", "/bin/sh", c2]);
  sh("buildah", [...S, "commit", "-q", c2, "localhost/bench:1"]);
  const ctr = sh("buildah", [...S, "from", "--name", "bench-ctr", "localhost/bench:1"]);
  const m3 = sh("buildah", [...S, "mount", ctr]);
  if (!QUICK) cpSync("/usr/lib/python3.11", join(m3, "usr/lib/python3.11"), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(m3, "data"));
  for (let i = 0; i < Math.max(1, Math.round(4 * SCALE)); i++) writeFileSync(join(m3, "data", `random-${i}`), randomBytes(8 << 20));
  return { ctr, image: "localhost/bench:1" };
}

/** A container of its own whose one layer is one `mb`-MiB file: half random bytes, half repetitive text. */
function bigLayerContainer(mb: number): string {
  const ctr = sh("buildah", [...S, "from", "--name", "bench-big", "scratch"]);
  const file = join(sh("buildah", [...S, "mount", ctr]), "big.bin");
  const chunk = 8 << 20;
  const text = Buffer.from("a line of compressible text, the same again and again, 0123456789\n".repeat(Math.ceil(chunk / 66))).subarray(0, chunk);
  const fd = openSync(file, "w");
  try {
    for (let i = 0; i < Math.ceil(mb / 8); i++) writeSync(fd, i % 2 === 0 ? randomBytes(chunk) : text);
  } finally {
    closeSync(fd);
  }
  return ctr;
}

interface Row {
  job: string;
  tool: string;
  ours: Timing;
  theirs: Timing;
  /** Output bytes (du -sb) when the job writes an image. */
  oursSize?: number;
  theirsSize?: number;
}

const duBytes = (path: string): number => Number(sh("du", ["-sb", path]).split("\t")[0]);

async function main(): Promise<void> {
  const { ctr, image } = setup();
  const out = join(work, "out");
  const rows: Row[] = [];
  /** `prepare` may differ per side (e.g. a layout the same tool wrote before); `output` is measured after the last run. */
  const add = (job: string, tool: string, ours: string[], theirs: string[], prepare: () => void, theirPrepare = prepare, output?: string): void => {
    if (ONLY.length > 0 && !ONLY.some((w) => job.includes(w))) return;
    process.stderr.write(`timing: ${job}\n`);
    // The two sides alternate (ours, theirs, ours, ...), each after its prepare and a sync, so that
    // neither gets the quieter half of the run (a machine whose speed drifts, writeback).
    const oursRuns: Timing[] = [];
    const theirRuns: Timing[] = [];
    let oursSize: number | undefined;
    for (let i = 0; i < runsPerJob; i++) {
      prepare();
      settle();
      oursRuns.push(timeOnce(`imgcopy ${job}`, ours));
      if (output) oursSize = duBytes(output); // before their prepare clears it; the last run's counts
      theirPrepare();
      settle();
      theirRuns.push(timeOnce(`${tool} ${job}`, theirs));
    }
    rows.push({ job, tool, ours: summary(oursRuns), theirs: summary(theirRuns), oursSize, theirsSize: output ? duBytes(output) : undefined });
  };
  // The node flags of the CLI's shebang (#!/usr/bin/env -S node FLAGS), as running the bin would pass them.
  const shebang = readFileSync(CLI, "utf8").split("\n", 1)[0]!;
  const nodeFlags = shebang.includes(" -S node ") ? shebang.slice(shebang.indexOf(" -S node ") + 9).trim().split(/\s+/) : [];
  const ic = (...a: string[]): string[] => [process.execPath, ...nodeFlags, CLI, ...a];
  const once = (argv: string[]): void => {
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", env: ENV });
    if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  };

  // Fixtures in other formats, made by skopeo once.
  const ociSrc = join(work, "src-oci");
  const ociPlain = join(work, "src-oci-plain");
  const archSrc = join(work, "src.tar");
  sh("skopeo", ["copy", "-q", `containers-storage:${BRACKET}${image}`, `oci:${ociSrc}:bench`]);
  sh("skopeo", ["copy", "-q", "--dest-oci-accept-uncompressed-layers", `containers-storage:${BRACKET}${image}`, `oci:${ociPlain}:bench`]);
  sh("skopeo", ["copy", "-q", `containers-storage:${BRACKET}${image}`, `docker-archive:${archSrc}:bench:1`]);

  const ctrRef = `container-copy:${BRACKET}${ctr}`;
  const oursGzip = ic("--quiet", ctrRef, `oci:${out}:x`);
  const buildahGzip = ["buildah", ...S, "commit", "-q", "--disable-compression=false", ctr, `oci:${out}:x`];
  // Copies run with --quiet (as skopeo -q / buildah commit -q); inspect has no progress to silence.
  add("container -> oci (gzip), first export", "buildah commit", oursGzip, buildahGzip, () => fresh(out), undefined, out);
  add("the same container exported again into the same layout", "buildah commit", oursGzip, buildahGzip,
    () => { fresh(out); once(oursGzip); }, () => { fresh(out); once(buildahGzip); }, out);
  add("container -> oci (uncompressed)", "buildah commit", ic("--quiet", "--dest-oci-accept-uncompressed-layers", ctrRef, `oci:${out}:x`),
    ["buildah", ...S, "commit", "-q", "--disable-compression", ctr, `oci:${out}:x`], () => fresh(out), undefined, out);
  add("store image -> oci (zstd)", "skopeo copy", ic("--quiet", "--dest-compress-format", "zstd", `containers-storage:${BRACKET}${image}`, `oci:${out}:x`),
    ["skopeo", "copy", "-q", "--dest-compress-format", "zstd", `containers-storage:${BRACKET}${image}`, `oci:${out}:x`], () => fresh(out), undefined, out);
  add("store image -> oci (gzip)", "skopeo copy", ic("--quiet", `containers-storage:${BRACKET}${image}`, `oci:${out}:x`),
    ["skopeo", "copy", "-q", `containers-storage:${BRACKET}${image}`, `oci:${out}:x`], () => fresh(out), undefined, out);
  add("oci (uncompressed) -> docker-archive", "skopeo copy", ic("--quiet", `oci:${ociPlain}:bench`, `docker-archive:${out}:bench:1`),
    ["skopeo", "copy", "-q", `oci:${ociPlain}:bench`, `docker-archive:${out}:bench:1`], () => fresh(out), undefined, out);
  add("oci (gzip) -> docker-archive", "skopeo copy", ic("--quiet", `oci:${ociSrc}:bench`, `docker-archive:${out}:bench:1`),
    ["skopeo", "copy", "-q", `oci:${ociSrc}:bench`, `docker-archive:${out}:bench:1`], () => fresh(out), undefined, out);
  add("oci (gzip) -> oci (new layout)", "skopeo copy", ic("--quiet", `oci:${ociSrc}:bench`, `oci:${out}:x`),
    ["skopeo", "copy", "-q", `oci:${ociSrc}:bench`, `oci:${out}:x`], () => fresh(out), undefined, out);
  add("oci (gzip) -> dir", "skopeo copy", ic("--quiet", `oci:${ociSrc}:bench`, `dir:${out}`),
    ["skopeo", "copy", "-q", `oci:${ociSrc}:bench`, `dir:${out}`], () => fresh(out), undefined, out);
  add("docker-archive -> oci (gzip)", "skopeo copy", ic("--quiet", `docker-archive:${archSrc}`, `oci:${out}:x`),
    ["skopeo", "copy", "-q", `docker-archive:${archSrc}`, `oci:${out}:x`], () => fresh(out), undefined, out);
  add("inspect container (no layer reads)", "buildah inspect", ic("inspect", ctrRef), ["buildah", ...S, "inspect", ctr], () => undefined);
  add("inspect oci image", "skopeo inspect", ic("inspect", `oci:${ociSrc}:bench`), ["skopeo", "inspect", `oci:${ociSrc}:bench`], () => undefined);
  add("start-up (--version)", "skopeo --version", ic("--version"), ["skopeo", "--version"], () => undefined);

  // docker:// against docker-registry on 127.0.0.1 (plain HTTP). Before each push the registry's storage
  // is emptied, so that neither side can skip a blob it finds there.
  const registry = await startRegistry();
  try {
    const wipe = (): void => {
      rmSync(join(registry.storageDir, "docker"), { recursive: true, force: true });
    };
    const pushRef = `docker://${registry.host}/bench/push:1`;
    add("export container -> registry (gzip)", "buildah commit", ic("--quiet", "--dest-tls-verify=false", ctrRef, pushRef),
      ["buildah", ...S, "commit", "-q", "--tls-verify=false", ctr, pushRef], wipe);
    wipe();
    const pullRef = `docker://${registry.host}/bench/pull:1`;
    sh("skopeo", ["copy", "-q", "--dest-tls-verify=false", `oci:${ociSrc}:bench`, pullRef]);
    add("registry -> oci", "skopeo copy", ic("--quiet", "--src-tls-verify=false", pullRef, `oci:${out}:x`),
      ["skopeo", "copy", "-q", "--src-tls-verify=false", pullRef, `oci:${out}:x`], () => fresh(out), undefined, out);
    if (BIG_LAYER_MB > 0 && (ONLY.length === 0 || ONLY.some((w) => "registry".includes(w)))) {
      // Peak memory with one big layer (issue 7: <= 150 MiB for 1 GB), once each side.
      const big = bigLayerContainer(BIG_LAYER_MB);
      runsPerJob = 1;
      const bigRef = `docker://${registry.host}/bench/big:1`;
      add(`export container, one ${BIG_LAYER_MB} MiB layer -> registry (gzip)`, "buildah commit",
        ic("--quiet", "--dest-tls-verify=false", `container-copy:${BRACKET}${big}`, bigRef),
        ["buildah", ...S, "commit", "-q", "--tls-verify=false", big, bigRef], wipe);
      add(`registry, one ${BIG_LAYER_MB} MiB layer -> oci`, "skopeo copy", ic("--quiet", "--src-tls-verify=false", bigRef, `oci:${out}:x`),
        ["skopeo", "copy", "-q", "--src-tls-verify=false", bigRef, `oci:${out}:x`], () => fresh(out), undefined, out);
      runsPerJob = RUNS;
    }
  } finally {
    await registry.stop();
  }

  const storeMb = Number(sh("du", ["-sm", join(G, "vfs")]).split("\t")[0]);
  const mb = (n: number | undefined): string => (n === undefined ? "" : (n / 1e6).toFixed(1));
  console.log(`imgcopy benchmark${QUICK ? " (--quick)" : ""}: ${RUNS} runs each, median wall time, peak RSS the max of the runs; vfs store ${storeMb} MB on disk; node ${process.version}; ${sh("skopeo", ["--version"])}; ${sh("buildah", ["--version"])}; ${CLI}`);
  console.log(`| job | imgcopy (s) | Go tool | Go tool (s) | ratio | output MB (ours / theirs) | peak RSS MiB (ours / theirs) |`);
  console.log(`|---|---:|---|---:|---:|---:|---:|`);
  for (const r of rows) {
    const size = r.oursSize === undefined ? "" : `${mb(r.oursSize)} / ${mb(r.theirsSize)}`;
    console.log(`| ${r.job} | ${(r.ours.ms / 1000).toFixed(2)} | ${r.tool} | ${(r.theirs.ms / 1000).toFixed(2)} | ${(r.ours.ms / r.theirs.ms).toFixed(2)} | ${size} | ${r.ours.rssMiB.toFixed(0)} / ${r.theirs.rssMiB.toFixed(0)} |`);
  }
}

try {
  await main();
} finally {
  spawnSync("buildah", [...S, "rm", "--all"], { stdio: "ignore" });
  spawnSync("sh", ["-c", `umount -R ${G}/* 2>/dev/null; true`]);
  rmSync(work, { recursive: true, force: true });
}
