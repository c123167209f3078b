// Rootless stores end to end: an unprivileged user with a subordinate id range builds overlay and
// vfs stores with buildah; imgcopy, run as that user, exports the container, and the unpacked tree
// equals what `buildah commit` run as that user exports (owners in container terms, 0600/0700
// files owned by a non-root container id, setuid, symlinks, a deleted file, an opaque dir).
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { access, readFile, stat, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createUnprivilegedUser, imgcopyCliFor, type UnprivilegedUser } from "../helpers/unprivileged-user.js";
import { compareTrees, formatDifferences, snapshotTree, unpackWithUmoci, type TreeDifference } from "../helpers/tree-compare.js";
import { readOciImage } from "../helpers/oci-layout-read.js";
import { requireTool, tempDir } from "../helpers/tools.js";
import { holdWriteLock } from "../transports/container-storage-copy/store/write-lock-holder.js";

// Run as the user inside `buildah unshare` (rootless buildah can mount only there), with $B = buildah and its store flags.
const BUILD_SCRIPT = `set -eu
c=$($B from scratch)
m=$($B mount "$c")
mkdir -p "$m/etc/app" "$m/old/sub" "$m/bin" "$m/home" "$m/data"
echo base > "$m/etc/app/conf"
echo gone > "$m/etc/app/deleted"
echo sub > "$m/old/sub/x"
echo old > "$m/old/file"
printf '#!/bin/sh\\necho tool\\n' > "$m/bin/tool"; chmod 4755 "$m/bin/tool"
ln -s /etc/app/conf "$m/etc/app/abs-link"
ln -s conf "$m/etc/app/rel-link"
$B umount "$c"
$B commit --quiet --rm "$c" localhost/rlbase:1 >/dev/null
$B from --pull=never --name rl-ctr localhost/rlbase:1 >/dev/null
m=$($B mount rl-ctr)
mkdir "$m/home/app"; echo secret > "$m/home/app/key"
chown -R 1000:1000 "$m/home/app"; chmod 0600 "$m/home/app/key"; chmod 0700 "$m/home/app"
echo data > "$m/data/owned"; chown 2000:3000 "$m/data/owned"; chmod 0640 "$m/data/owned"
cp "$m/bin/tool" "$m/bin/tool2"; chown 1000:0 "$m/bin/tool2"; chmod 4750 "$m/bin/tool2"
mkdir "$m/data/shared"; chown 0:3000 "$m/data/shared"; chmod 2770 "$m/data/shared"
ln -s missing "$m/data/dangling"
rm "$m/etc/app/deleted"
rm -rf "$m/old"; mkdir "$m/old"; echo new > "$m/old/n"
chmod 0750 "$m/etc/app"
$B umount rl-ctr >/dev/null
`;

const INTERNAL_XATTR = /^(user\.overlay\.|trusted\.|user\.fuseoverlayfs\.|user\.containers\.override_stat$)/;

/** An xattr difference that is only overlay's internal xattrs on buildah's side (a) and none on ours (b). */
function onlyOverlayXattrs(d: TreeDifference): boolean {
  if (d.what !== "xattrs") return false;
  const strip = (text: string): string => {
    const kept = Object.entries(JSON.parse(text) as Record<string, string>).filter(([k]) => !INTERNAL_XATTR.test(k));
    return JSON.stringify(Object.fromEntries(kept));
  };
  return strip(d.a) === d.b;
}

async function runAsRoot(tool: string, args: string[]): Promise<void> {
  await promisify(execFile)(tool, args, { encoding: "utf8" });
}

const PODMAN_BASE_SCRIPT = `set -eu
c=$(buildah from scratch)
m=$(buildah mount "$c")
mkdir -p "$m/etc" "$m/home/app"
echo x > "$m/etc/x"
echo k > "$m/home/app/key"
chown -R 1000:1000 "$m/home/app"; chmod 0600 "$m/home/app/key"; chmod 0700 "$m/home/app"
buildah umount "$c" >/dev/null
buildah commit --quiet --rm "$c" localhost/pmbase:1 >/dev/null
`;

interface RootlessStore {
  driver: "overlay" | "vfs";
  /** buildah's store flags ([] = the user's default store, overlay through ~/.config/containers/storage.conf). */
  flags: string[];
  /** The container-copy reference's store bracket ("" = the default store). */
  bracket: string;
}

describe("rootless stores (run as an unprivileged user)", () => {
  let user: UnprivilegedUser;
  let cli: string;
  let scratch: { path: string; cleanup: () => Promise<void> };
  const stores: RootlessStore[] = [];

  before(async () => {
    for (const tool of ["buildah", "umoci", "unshare", "newuidmap", "newgidmap", "python3", "pgrep"]) requireTool(tool);
    scratch = await tempDir("imgcopy-rootless-");
    user = await createUnprivilegedUser({ subids: true });
    cli = await imgcopyCliFor(user, user.home);
    await user.run("mkdir", ["-p", join(user.home, ".config/containers")]);
    await user.run("sh", ["-c", `printf '[storage]\\ndriver = "overlay"\\n' > ${join(user.home, ".config/containers/storage.conf")}`]);
    const vfsGraph = join(user.home, "vfs/graph");
    const vfsRun = join(user.home, "vfs/run");
    stores.push({ driver: "overlay", flags: [], bracket: "" });
    stores.push({ driver: "vfs", flags: ["--root", vfsGraph, "--runroot", vfsRun, "--storage-driver", "vfs"], bracket: `[vfs@${vfsGraph}+${vfsRun}]` });
    const script = join(user.home, "build.sh");
    await writeFile(script, BUILD_SCRIPT, { mode: 0o644 });
    for (const s of stores) {
      await user.run("buildah", [...s.flags, "unshare", "sh", script], { B: ["buildah", ...s.flags].join(" ") });
    }
  });

  after(async () => {
    await user?.remove();
    await scratch?.cleanup();
  });

  it("the overlay store is the user's default store, made by native rootless overlay (user.overlay.* xattrs)", async () => {
    const graph = join(user.home, ".local/share/containers/storage");
    assert.equal((await readFile(join(graph, "overlay/.has-mount-program"), "utf8")).trim(), "false");
    const layers = JSON.parse(await readFile(join(graph, "overlay-layers/layers.json"), "utf8")) as Array<{ uidmap?: unknown }>;
    assert.ok(layers.every((l) => l.uidmap === undefined), "a rootless store's layers have no id map: ids on disk are the namespace's");
  });

  for (const driver of ["overlay", "vfs"] as const) {
    it(`${driver}: the export equals buildah commit's, file by file, both run as the user`, async () => {
      const s = stores.find((x) => x.driver === driver)!;
      const ours = join(user.home, `ours-${driver}`);
      const theirs = join(user.home, `theirs-${driver}`);
      await user.run("buildah", [...s.flags, "commit", "--quiet", "rl-ctr", `oci:${theirs}:x`]);
      const r = await user.run("node", [cli, `container-copy:${s.bracket}rl-ctr`, `oci:${ours}:x`]);
      assert.equal(r.stdout, "");
      const oursTree = await unpackWithUmoci(ours, "x", join(scratch.path, `ours-${driver}`));
      const theirsTree = await unpackWithUmoci(theirs, "x", join(scratch.path, `theirs-${driver}`));
      // buildah 1.28 (containers/storage 1.43) copies overlay's own user.overlay.* xattrs into its
      // layer; the issue asks that they never leak, so they are the one difference allowed.
      const diffs = (await compareTrees(theirsTree, oursTree, { ignoreRoot: true })).filter((d) => !onlyOverlayXattrs(d));
      assert.deepEqual(diffs, [], formatDifferences(diffs));
      const leaked = [...(await snapshotTree(oursTree)).values()].filter((e) => Object.keys(e.xattrs).some((k) => INTERNAL_XATTR.test(k)));
      assert.deepEqual(leaked.map((e) => e.path), [], "no internal xattr in our image");
      // What the issue saw go wrong, checked directly: container owners, not host ids.
      const key = await stat(join(oursTree, "home/app/key"));
      assert.deepEqual([key.uid, key.gid, key.mode & 0o7777], [1000, 1000, 0o600]);
      const conf = await stat(join(oursTree, "etc/app/conf"));
      assert.deepEqual([conf.uid, conf.gid], [0, 0]);
      await assert.rejects(access(join(oursTree, "old/sub")), "the re-created directory hides the base's content");
      await assert.rejects(access(join(oursTree, "etc/app/deleted")));
    });
  }

  it("with two subordinate ranges (more than util-linux 2.38 maps) imgcopy enters through buildah unshare; same tree", async () => {
    const { subids } = user;
    assert.ok(subids);
    const second = `${subids.start + subids.count}-${subids.start + subids.count + 999}`;
    await runAsRoot("usermod", ["--add-subuids", second, "--add-subgids", second, user.name]);
    try {
      const version = /util-linux (\d+)\.(\d+)/.exec((await user.run("unshare", ["--version"])).stdout);
      const severalRangesByUnshare = version !== null && (Number(version[1]) > 2 || Number(version[2]) >= 40);
      const out = join(user.home, "two-ranges");
      const r = await user.run("node", [cli, "--debug", "container-copy:rl-ctr", `oci:${out}:x`]);
      assert.match(r.stderr, severalRangesByUnshare ? /entering the user namespace .*unshare --map-root-user/ : /entering the user namespace .*buildah unshare --/);
      const tree = await unpackWithUmoci(out, "x", join(scratch.path, "two-ranges"));
      const diffs = await compareTrees(join(scratch.path, "ours-overlay/rootfs"), tree, { ignoreRoot: true });
      assert.deepEqual(diffs, [], formatDifferences(diffs));
    } finally {
      await runAsRoot("usermod", ["--del-subuids", second, "--del-subgids", second, user.name]);
    }
  });

  it("list and inspect work as the user, on the default store", async () => {
    const listed = JSON.parse((await user.run("node", [cli, "list", "container-copy:", "--json"])).stdout) as Array<{ kind: string; names: string[] }>;
    assert.ok(listed.some((i) => i.kind === "container" && i.names.includes("rl-ctr")), JSON.stringify(listed));
    assert.ok(listed.some((i) => i.kind === "image" && i.names.includes("localhost/rlbase:1")));
    const inspected = JSON.parse((await user.run("node", [cli, "inspect", "container-copy:rl-ctr"])).stdout) as { Layers: string[] };
    assert.equal(inspected.Layers.length, 2);
  });

  it("a library caller outside the namespace gets one line saying so; runInUserNamespace() gets it in", async () => {
    const index = join(cli, "../../index.js");
    const refused = await user.runStatus("node", ["--input-type=module", "-e",
      `import { inspectImage } from ${JSON.stringify(index)};\ntry { await inspectImage("container-copy:rl-ctr"); } catch (e) { console.log(e.message); process.exit(4); }`]);
    assert.equal(refused.code, 4);
    assert.match(refused.stdout.trim(), /^containers\/storage store \S+ must be read inside the user namespace of uid \d+ .*runInUserNamespace/);
    const script = join(user.home, "library-caller.mjs");
    await writeFile(script,
      `import { inspectImage, runInUserNamespace, userNamespaceNeeded } from ${JSON.stringify(index)};\n` +
      "if (userNamespaceNeeded()) process.exit(await runInUserNamespace({ what: \"the library test\" }));\n" +
      "const r = await inspectImage(\"container-copy:rl-ctr\");\nconsole.log(process.getuid(), JSON.stringify(r).includes(\"Layers\"));\n",
      { mode: 0o644 });
    const entered = await user.run("node", [script]);
    assert.equal(entered.stdout.trim(), "0 true", "inspected as root of the user's namespace");
  });

  it("runInUserNamespace gives podman's map (0 -> the user, 1.. -> the subordinate range) and reports a signal as 128+N", async () => {
    const index = join(cli, "../../index.js");
    const script = join(user.home, "maps.mjs");
    await writeFile(script,
      `import { runInUserNamespace } from ${JSON.stringify(index)};\n` +
      "const maps = await runInUserNamespace({ what: \"maps\", argv: [\"/bin/sh\", \"-c\", \"cat /proc/self/uid_map /proc/self/gid_map\"] });\n" +
      "const killed = await runInUserNamespace({ what: \"kill\", argv: [\"/bin/sh\", \"-c\", \"kill -KILL $$\"] });\n" +
      "console.log(`codes ${maps} ${killed}`);\n",
      { mode: 0o644 });
    const { stdout } = await user.run("node", [script]);
    const lines = stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
    const sub = `1 ${user.subids!.start} ${user.subids!.count}`;
    assert.deepEqual(lines, [`0 ${user.uid} 1`, sub, `0 ${user.gid} 1`, sub, "codes 0 137"]);
  });

  it("waits for a writer's lock across the namespace, and SIGTERM to the outer process ends the copy cleanly (143, nothing written)", async () => {
    const lockFile = join(user.home, ".local/share/containers/storage/overlay-layers/layers.lock");
    const holder = await holdWriteLock(lockFile);
    const out = join(user.home, "interrupted");
    try {
      const envArgs = Object.entries(user.env).map(([k, v]) => `${k}=${v}`);
      const child = spawn("runuser", ["-u", user.name, "--", "env", "-i", ...envArgs, "node", cli, "container-copy:rl-ctr", `oci:${out}:x`], { cwd: user.home, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (d: string) => (stderr += d));
      while (!/waiting/i.test(stderr)) {
        await Promise.race([once(child.stderr, "data"), once(child, "exit").then(() => assert.fail(`exited early: ${stderr}`))]);
      }
      // The process to signal is the outer imgcopy (runuser's child), as a shell's kill would.
      const { stdout: pids } = await promisify(execFile)("pgrep", ["-P", String(child.pid), "-x", "node"], { encoding: "utf8" });
      process.kill(Number(pids.trim().split("\n")[0]), "SIGTERM");
      const [code] = (await once(child, "exit")) as [number | null];
      assert.equal(code, 143, stderr);
      await assert.rejects(access(out), "nothing written");
    } finally {
      await holder.stop();
    }
  });

  it("a rootless podman container in a default setup (no storage.conf: a vfs store) exports as podman commit + skopeo copy do", async () => {
    for (const tool of ["podman", "skopeo"]) requireTool(tool);
    const pm = await createUnprivilegedUser({ subids: true });
    try {
      const pmCli = await imgcopyCliFor(pm, pm.home);
      const script = join(pm.home, "base.sh");
      await writeFile(script, PODMAN_BASE_SCRIPT, { mode: 0o644 });
      await pm.run("buildah", ["unshare", "sh", script]);
      const graph = join(pm.home, ".local/share/containers/storage");
      await access(join(graph, "vfs-layers"));
      await assert.rejects(access(join(graph, "overlay")), "without storage.conf this machine's rootless default is vfs");
      const podman = ["--cgroup-manager", "cgroupfs", "--events-backend", "file"];
      await pm.run("podman", [...podman, "create", "--name", "pc", "-e", "FOO=1", "-u", "1000:1000", "-w", "/etc", "localhost/pmbase:1", "/bin/true"]);
      await pm.run("podman", [...podman, "commit", "--quiet", "pc", "localhost/pc:1"]);
      const theirs = join(pm.home, "theirs");
      const ours = join(pm.home, "ours");
      await pm.run("skopeo", ["copy", "--quiet", "containers-storage:localhost/pc:1", `oci:${theirs}:x`]);
      await pm.run("node", [pmCli, "container-copy:pc", `oci:${ours}:x`]);
      const diffs = await compareTrees(
        await unpackWithUmoci(theirs, "x", join(scratch.path, "pc-theirs")),
        await unpackWithUmoci(ours, "x", join(scratch.path, "pc-ours")),
        { ignoreRoot: true },
      );
      assert.deepEqual(diffs, [], formatDifferences(diffs));
      const [a, b] = await Promise.all([ours, theirs].map(async (layout) => (await readOciImage(layout, "x")).config.config));
      for (const field of ["User", "WorkingDir", "Cmd", "Entrypoint", "Labels"]) assert.deepEqual(a![field], b![field], field);
      const env = (c: Record<string, unknown> | undefined): string[] => [...((c?.Env as string[] | undefined) ?? [])].sort();
      assert.deepEqual(env(a), env(b));
      assert.ok(env(a).includes("FOO=1"));
      const listed = JSON.parse((await pm.run("node", [pmCli, "list", "container-copy:", "--json"])).stdout) as Array<{ names: string[] }>;
      assert.ok(listed.some((i) => i.names.includes("pc")), JSON.stringify(listed));
    } finally {
      await pm.remove();
    }
  });

  it("a user without a subordinate range gets one line naming /etc/subuid and the user, and nothing is written", async () => {
    const plain = await createUnprivilegedUser({ subids: false });
    try {
      await plain.run("mkdir", ["-p", join(plain.home, ".local/share/containers/storage")]);
      const plainCli = await imgcopyCliFor(plain, plain.home);
      const out = join(plain.home, "out");
      const r = await plain.runStatus("node", [plainCli, "container-copy:anything", `oci:${out}:x`]);
      assert.equal(r.code, 4, r.stderr);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^imgcopy: cannot enter the user namespace to read container-copy store overlay@\\S+: user "${plain.name}" \\(uid ${plain.uid}\\) has no subordinate uid range in /etc/subuid; as root, add one: usermod --add-subuids`));
      await assert.rejects(access(out));
    } finally {
      await plain.remove();
    }
  });
});
