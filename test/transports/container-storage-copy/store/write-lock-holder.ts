// Another process's fcntl locks on a store's lock files, as a podman/buildah writer holds them.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { requireTool, run } from "../../../helpers/tools.js";

/** A python3 process holding an fcntl WRITE lock on `path` (as a podman/buildah writer does) until stopped. */
export async function holdWriteLock(path: string): Promise<{ stop: () => Promise<void> }> {
  requireTool("python3");
  const script = "import fcntl,sys\nf=open(sys.argv[1],'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\nsys.stdin.read()\n";
  const child: ChildProcess = spawn("python3", ["-c", script, path], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout!.setEncoding("utf8");
  while (!out.includes("locked")) {
    const [chunk] = (await once(child.stdout!, "data")) as [string];
    out += chunk;
  }
  return {
    stop: async () => {
      child.stdin!.end();
      if (child.exitCode === null) await once(child, "exit");
    },
  };
}

/** Whether another process could take a WRITE lock on `path` right now (non-blocking). */
export async function writerCouldLock(path: string): Promise<boolean> {
  const script =
    "import fcntl,sys\nf=open(sys.argv[1],'r+')\ntry:\n  fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB)\n  print('free')\nexcept OSError:\n  print('held')\n";
  const { stdout } = await run("python3", ["-c", script, path]);
  return stdout.trim() === "free";
}
