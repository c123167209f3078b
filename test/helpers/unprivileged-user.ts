// A throw-away unprivileged user for rootless tests: useradd with a home in a temp dir, optionally
// a subordinate uid/gid range (usermod --add-subuids, which locks /etc/subuid like shadow's tools
// do), commands run as that user with a clean environment, and remove() that takes all of it away.
import { execFile } from "node:child_process";
import { chmod, chown, cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { requireTool, type RunResult } from "./tools.js";

const execFileP = promisify(execFile);

export interface UnprivilegedUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** The subordinate range given to the user (uids and gids alike), if any. */
  subids: { start: number; count: number } | undefined;
  /** The environment commands run with: PATH, HOME, USER, LOGNAME only (no XDG_RUNTIME_DIR, as under su). */
  env: Record<string, string>;
  /** Runs a command as the user in its home; rejects with its stderr on a non-zero exit. */
  run(command: string, args: string[], extraEnv?: Record<string, string>): Promise<RunResult>;
  /** Like run, but resolves with the exit code and both outputs whatever the exit code. */
  runStatus(command: string, args: string[], extraEnv?: Record<string, string>): Promise<RunResult & { code: number }>;
  /** Removes the user, its subordinate ids, its home and the run dirs its tools made. Safe to call twice. */
  remove(): Promise<void>;
}

const SUBID_COUNT = 65536;

async function sh(tool: string, args: string[]): Promise<void> {
  await execFileP(tool, args, { encoding: "utf8" }).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`${tool} ${args.join(" ")} failed: ${err.stderr?.trim() || err.message}`);
  });
}

/** Ends what the user's tools left running (podman's catatonit pause process), by pid: userdel refuses a user with processes. */
async function stopProcessesOf(uid: number): Promise<void> {
  if (uid < 0) return;
  const { stdout } = await execFileP("pgrep", ["-U", String(uid)], { encoding: "utf8" }).catch(() => ({ stdout: "" }));
  const pids = stdout.split("\n").filter((l) => /^\d+$/.test(l)).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 50 && pids.some(isAlive); i++) await new Promise((r) => setTimeout(r, 20));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function idOf(flag: "-u" | "-g", name: string): Promise<number> {
  const { stdout } = await execFileP("id", [flag, name], { encoding: "utf8" });
  return Number(stdout.trim());
}

/** A new user; with `subids`, a range of 65536 subordinate uids and gids (a random, high start). */
export async function createUnprivilegedUser(opts: { subids: boolean }): Promise<UnprivilegedUser> {
  for (const tool of ["useradd", "userdel", "usermod", "runuser"]) requireTool(tool);
  const name = `imgcopy-rl${process.pid % 100000}${Math.floor(Math.random() * 1e4)}`;
  const base = await mkdtemp(join(tmpdir(), "imgcopy-user-"));
  await chmod(base, 0o711);
  const home = join(base, "home");
  let created = false;
  let removed = false;
  let uid = -1;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    if (created) {
      await stopProcessesOf(uid);
      if (subids) await sh("usermod", ["--del-subuids", `${subids.start}-${subids.start + subids.count - 1}`, "--del-subgids", `${subids.start}-${subids.start + subids.count - 1}`, name]).catch(() => undefined);
      await sh("userdel", [name]);
    }
    await rm(base, { recursive: true, force: true });
    if (uid >= 0) {
      // buildah's run roots when XDG_RUNTIME_DIR is unset; the uid may be given to the next test user
      for (const dir of [`/tmp/containers-user-${uid}`, `/var/tmp/containers-user-${uid}`, `/tmp/podman-run-${uid}`, `/tmp/storage-run-${uid}`]) {
        await rm(dir, { recursive: true, force: true });
      }
    }
  };
  // Without -K the machine's login.defs may hand out a range itself: this user gets only ours.
  const subids = opts.subids ? { start: 200_000_000 + Math.floor(Math.random() * 4000) * SUBID_COUNT, count: SUBID_COUNT } : undefined;
  try {
    await sh("useradd", ["-M", "-d", home, "-s", "/bin/sh", "-U", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name]);
    created = true;
    uid = await idOf("-u", name);
    const gid = await idOf("-g", name);
    await mkdir(home, { mode: 0o700 });
    await chown(home, uid, gid);
    if (subids) {
      const range = `${subids.start}-${subids.start + subids.count - 1}`;
      await sh("usermod", ["--add-subuids", range, "--add-subgids", range, name]);
    }
    const env = { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", HOME: home, USER: name, LOGNAME: name };
    const runStatus = async (command: string, args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult & { code: number }> => {
      const envArgs = Object.entries({ ...env, ...extraEnv }).map(([k, v]) => `${k}=${v}`);
      try {
        const { stdout, stderr } = await execFileP("runuser", ["-u", name, "--", "env", "-i", ...envArgs, command, ...args], {
          cwd: home, encoding: "utf8", maxBuffer: 64 * 1024 * 1024,
        });
        return { stdout, stderr, code: 0 };
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; code?: number | string; message: string };
        if (typeof e.code !== "number") throw err;
        return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: e.code };
      }
    };
    const run = async (command: string, args: string[], extraEnv?: Record<string, string>): Promise<RunResult> => {
      const r = await runStatus(command, args, extraEnv);
      if (r.code !== 0) throw new Error(`as ${name}: ${command} ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
      return r;
    };
    return { name, uid, gid, home, subids, env, run, runStatus, remove };
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
}

/**
 * The path of imgcopy's CLI that `user` can run: this checkout's dist/ when the user can read it,
 * else a copy of dist/, node_modules/ and package.json in `scratch` (which the user can reach).
 */
export async function imgcopyCliFor(user: UnprivilegedUser, scratch: string): Promise<string> {
  const repo = resolve(dirname(new URL(import.meta.url).pathname), "../..");
  const main = join(repo, "dist/src/cli/main.cjs");
  const probe = await user.runStatus("node", ["-e", `require(${JSON.stringify(join(repo, "node_modules/yargs/package.json"))})`]);
  const readable = probe.code === 0 && (await user.runStatus("test", ["-r", main])).code === 0;
  if (readable) return main;
  const copy = join(scratch, "imgcopy");
  await mkdir(copy, { recursive: true });
  for (const part of ["dist", "node_modules", "package.json"]) await cp(join(repo, part), join(copy, part), { recursive: true, verbatimSymlinks: true });
  await sh("chmod", ["-R", "a+rX", copy]);
  return join(copy, "dist/src/cli/main.cjs");
}
