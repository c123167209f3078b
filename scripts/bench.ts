// Benchmark: imgcopy against skopeo / buildah doing the same job, measured in the same run.
// Prints one row per job with median wall times and the ratio imgcopy / Go tool (< 1: we are faster).
// Usage: npm run build && npm run bench [-- --runs 3 --scale 1]
// Needs root (buildah with a vfs store), buildah, skopeo. Takes a few minutes.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, cpSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = opt("runs", 3);
const SCALE = opt("scale", 1); // multiplies the random data added to the container

const CLI = resolve("dist/src/cli/main.js");
const work = mkdtempSync(join(tmpdir(), "imgcopy-bench-"));
const G = join(work, "g");
const R = join(work, "r");
const S = ["--root", G, "--runroot", R, "--storage-driver", "vfs"];
const BRACKET = `[vfs@${G}+${R}]`;

function sh(cmd: string, argv: string[]): string {
  return execFileSync(cmd, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26 }).trim();
}

function fresh(path: string): string {
  rmSync(path, { recursive: true, force: true });
  return path;
}

/** Median wall time (ms) of `runs` executions; `prepare` runs before each, untimed. */
function time(label: string, argv: string[], prepare: () => void): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    prepare();
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${label}: ${argv.join(" ")} failed: ${r.stderr}`);
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
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
  cpSync("/usr/lib/python3.11", join(m3, "usr/lib/python3.11"), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(m3, "data"));
  for (let i = 0; i < 4 * SCALE; i++) writeFileSync(join(m3, "data", `random-${i}`), randomBytes(8 << 20));
  return { ctr, image: "localhost/bench:1" };
}

interface Row {
  job: string;
  ours: number;
  theirs: number;
  tool: string;
}

function main(): void {
  const { ctr, image } = setup();
  const out = join(work, "out");
  const rows: Row[] = [];
  const add = (job: string, tool: string, ours: string[], theirs: string[], prepare: () => void): void => {
    process.stderr.write(`timing: ${job}\n`);
    rows.push({ job, tool, ours: time(`imgcopy ${job}`, ours, prepare), theirs: time(`${tool} ${job}`, theirs, prepare) });
  };
  const ic = (...a: string[]): string[] => [process.execPath, CLI, ...a];

  // Fixtures in other formats, made by skopeo once.
  const ociSrc = join(work, "src-oci");
  const archSrc = join(work, "src.tar");
  sh("skopeo", ["copy", "-q", `containers-storage:${BRACKET}${image}`, `oci:${ociSrc}:bench`]);
  sh("skopeo", ["copy", "-q", `containers-storage:${BRACKET}${image}`, `docker-archive:${archSrc}:bench:1`]);

  // Copies run with --quiet (as skopeo -q / buildah commit -q); inspect has no progress to silence.
  add("export container -> oci (gzip)", "buildah commit", ic("--quiet", `container-copy:${BRACKET}${ctr}`, `oci:${out}:x`),
    ["buildah", ...S, "commit", "-q", ctr, `oci:${out}:x`], () => fresh(out));
  add("export container -> oci (uncompressed)", "buildah commit", ic("--quiet", "--dest-oci-accept-uncompressed-layers", `container-copy:${BRACKET}${ctr}`, `oci:${out}:x`),
    ["buildah", ...S, "commit", "-q", "--disable-compression", ctr, `oci:${out}:x`], () => fresh(out));
  add("store image -> oci (gzip)", "skopeo copy", ic("--quiet", `containers-storage:${BRACKET}${image}`, `oci:${out}:x`),
    ["skopeo", "copy", "-q", `containers-storage:${BRACKET}${image}`, `oci:${out}:x`], () => fresh(out));
  add("oci -> oci (new layout)", "skopeo copy", ic("--quiet", `oci:${ociSrc}:bench`, `oci:${out}:x`),
    ["skopeo", "copy", "-q", `oci:${ociSrc}:bench`, `oci:${out}:x`], () => fresh(out));
  add("oci -> docker-archive", "skopeo copy", ic("--quiet", `oci:${ociSrc}:bench`, `docker-archive:${out}:bench:1`),
    ["skopeo", "copy", "-q", `oci:${ociSrc}:bench`, `docker-archive:${out}:bench:1`], () => fresh(out));
  add("docker-archive -> oci (gzip)", "skopeo copy", ic("--quiet", `docker-archive:${archSrc}`, `oci:${out}:x`),
    ["skopeo", "copy", "-q", `docker-archive:${archSrc}`, `oci:${out}:x`], () => fresh(out));
  add("oci -> dir", "skopeo copy", ic("--quiet", `oci:${ociSrc}:bench`, `dir:${out}`),
    ["skopeo", "copy", "-q", `oci:${ociSrc}:bench`, `dir:${out}`], () => fresh(out));
  add("inspect container (no layer reads)", "buildah inspect", ic("inspect", `container-copy:${BRACKET}${ctr}`),
    ["buildah", ...S, "inspect", ctr], () => undefined);
  add("inspect oci image", "skopeo inspect", ic("inspect", `oci:${ociSrc}:bench`),
    ["skopeo", "inspect", `oci:${ociSrc}:bench`], () => undefined);
  add("start-up (--version)", "skopeo --version", [process.execPath, CLI, "--version"], ["skopeo", "--version"], () => undefined);

  const layerMb = Number(sh("du", ["-sm", join(G, "vfs")]).split("\t")[0]);
  console.log(`imgcopy benchmark: ${RUNS} runs each, median wall time; vfs store ${layerMb} MB on disk; node ${process.version}; ${sh("skopeo", ["--version"])}; ${sh("buildah", ["--version"])}`);
  console.log(`| job | imgcopy (s) | Go tool | Go tool (s) | ratio |`);
  console.log(`|---|---:|---|---:|---:|`);
  for (const r of rows) {
    console.log(`| ${r.job} | ${(r.ours / 1000).toFixed(2)} | ${r.tool} | ${(r.theirs / 1000).toFixed(2)} | ${(r.ours / r.theirs).toFixed(2)} |`);
  }
}

try {
  main();
} finally {
  spawnSync("buildah", [...S, "rm", "--all"], { stdio: "ignore" });
  spawnSync("sh", ["-c", `umount -R ${G}/* 2>/dev/null; true`]);
  rmSync(work, { recursive: true, force: true });
}
