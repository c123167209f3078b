// Benchmark: imgcopy against skopeo / buildah doing the same job, measured in the same run.
// Prints one row per job with median wall times and the ratio imgcopy / Go tool (< 1: we are faster).
// Usage: npm run build && npm run bench [-- --runs 3 --scale 1 --only registry]
// Needs root (buildah with a vfs store), buildah, skopeo, docker-registry. Takes a few minutes.
// Peak memory (max RSS of the process) comes from GNU time (/usr/bin/time) when it is installed.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, mkdirSync, writeFileSync, cpSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startRegistry } from "../test/helpers/registry-server.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = opt("runs", 3);
const SCALE = opt("scale", 1); // multiplies the random data added to the container
// --only TEXT: time only the jobs whose name contains TEXT (e.g. --only registry).
const ONLY = args.includes("--only") ? (args[args.indexOf("--only") + 1] ?? "") : undefined;

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

const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

interface Timing {
  ms: number;
  /** Largest max RSS over the runs, in MiB; undefined without GNU time. */
  peakMib: number | undefined;
}

/** Median wall time (ms) and peak memory of `runs` executions; `prepare` runs before each, untimed. */
function time(label: string, argv: string[], prepare: () => void): Timing {
  const samples: number[] = [];
  let peakKib: number | undefined;
  for (let i = 0; i < RUNS; i++) {
    prepare();
    const cmd = GNU_TIME ? [GNU_TIME, "-f", "imgcopy-bench-maxrss %M", ...argv] : argv;
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", maxBuffer: 1 << 26 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${label}: ${argv.join(" ")} failed: ${r.stderr}`);
    const rss = /imgcopy-bench-maxrss (\d+)/.exec(r.stderr)?.[1];
    if (rss !== undefined) peakKib = Math.max(peakKib ?? 0, Number(rss));
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)]!, peakMib: peakKib === undefined ? undefined : peakKib / 1024 };
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
  ours: Timing;
  theirs: Timing;
  tool: string;
}

const mib = (t: Timing): string => (t.peakMib === undefined ? "-" : t.peakMib.toFixed(0));

async function main(): Promise<void> {
  const { ctr, image } = setup();
  const out = join(work, "out");
  const rows: Row[] = [];
  const add = (job: string, tool: string, ours: string[], theirs: string[], prepare: () => void): void => {
    if (ONLY !== undefined && !job.includes(ONLY)) return;
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

  // docker:// against docker-registry on 127.0.0.1 (plain HTTP). Before each push the registry's storage
  // is emptied, so that neither side can skip a blob it finds there.
  const registry = await startRegistry();
  try {
    const wipe = (): void => {
      rmSync(join(registry.storageDir, "docker"), { recursive: true, force: true });
    };
    const pushRef = `docker://${registry.host}/bench/push:1`;
    add("export container -> registry (gzip)", "buildah commit", ic("--quiet", "--dest-tls-verify=false", `container-copy:${BRACKET}${ctr}`, pushRef),
      ["buildah", ...S, "commit", "-q", "--tls-verify=false", ctr, pushRef], wipe);
    wipe();
    const pullRef = `docker://${registry.host}/bench/pull:1`;
    sh("skopeo", ["copy", "-q", "--dest-tls-verify=false", `oci:${ociSrc}:bench`, pullRef]);
    add("registry -> oci", "skopeo copy", ic("--quiet", "--src-tls-verify=false", pullRef, `oci:${out}:x`),
      ["skopeo", "copy", "-q", "--src-tls-verify=false", pullRef, `oci:${out}:x`], () => fresh(out));
  } finally {
    await registry.stop();
  }

  const layerMb = Number(sh("du", ["-sm", join(G, "vfs")]).split("\t")[0]);
  console.log(`imgcopy benchmark: ${RUNS} runs each, median wall time; vfs store ${layerMb} MB on disk; node ${process.version}; ${sh("skopeo", ["--version"])}; ${sh("buildah", ["--version"])}`);
  console.log(`| job | imgcopy (s) | Go tool | Go tool (s) | ratio | imgcopy peak (MiB) | Go tool peak (MiB) |`);
  console.log(`|---|---:|---|---:|---:|---:|---:|`);
  for (const r of rows) {
    console.log(
      `| ${r.job} | ${(r.ours.ms / 1000).toFixed(2)} | ${r.tool} | ${(r.theirs.ms / 1000).toFixed(2)} | ${(r.ours.ms / r.theirs.ms).toFixed(2)} | ${mib(r.ours)} | ${mib(r.theirs)} |`,
    );
  }
}

try {
  await main();
} finally {
  spawnSync("buildah", [...S, "rm", "--all"], { stdio: "ignore" });
  spawnSync("sh", ["-c", `umount -R ${G}/* 2>/dev/null; true`]);
  rmSync(work, { recursive: true, force: true });
}
