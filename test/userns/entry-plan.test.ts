// Entering the user's namespace: subordinate ranges, podman's map, util-linux's spellings by
// version, the fallback to buildah and the one-line refusals (with real subuid files and PATHs).
import assert from "node:assert/strict";
import { symlink, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  findExecutable, insideUserNamespace, namespaceMap, parseSubordinateRanges, parseUtilLinuxVersion, planNamespaceEntry,
  rootlessUid, unshareMapArgs, userNamespaceNeeded, namespaceChildEnv,
} from "../../src/userns/index.js";
import { locateStore } from "../../transports/container-storage-copy/store/store-location.js";
import { requireTool, tempDir } from "../helpers/tools.js";

const SUBUID = "# comment\nalice:165536:65536\n1002:300000:1000\nbob:100000:65536\nbroken line\nalice:x:5\nalice:400000:0\n";

describe("subordinate ids", () => {
  it("takes the user's lines by name or uid, skipping comments, malformed and empty ranges", () => {
    assert.deepEqual(parseSubordinateRanges(SUBUID, { name: "alice", id: 1002 }), [
      { start: 165536, count: 65536 },
      { start: 300000, count: 1000 },
    ]);
    assert.deepEqual(parseSubordinateRanges(SUBUID, { name: undefined, id: 1003 }), []);
  });

  it("builds podman's map: 0 -> the user, then the ranges sorted by start, packed from 1", () => {
    assert.deepEqual(namespaceMap(1002, [{ start: 165536, count: 65536 }]), [
      { inner: 0, outer: 1002, count: 1 },
      { inner: 1, outer: 165536, count: 65536 },
    ]);
    assert.deepEqual(namespaceMap(1002, [{ start: 300000, count: 1000 }, { start: 165536, count: 10 }]).map((r) => [r.inner, r.outer, r.count]), [
      [0, 1002, 1], [1, 165536, 10], [11, 300000, 1000],
    ]);
  });
});

describe("util-linux unshare's map flags", () => {
  const one = namespaceMap(1002, [{ start: 165536, count: 65536 }]);
  const two = namespaceMap(1002, [{ start: 165536, count: 65536 }, { start: 300000, count: 10 }]);
  it("reads the version from unshare --version", () => {
    assert.deepEqual(parseUtilLinuxVersion("unshare from util-linux 2.38.1\n"), { major: 2, minor: 38 });
    assert.equal(parseUtilLinuxVersion("unshare (busybox)"), undefined);
  });
  it("spells a range outer,inner,count on 2.38 and inner:outer:count from 2.39", () => {
    assert.deepEqual(unshareMapArgs({ major: 2, minor: 38 }, "--map-users", one), ["--map-users=165536,1,65536"]);
    assert.deepEqual(unshareMapArgs({ major: 2, minor: 39 }, "--map-groups", one), ["--map-groups=1:165536:65536"]);
  });
  it("has no map flags before 2.38, and several ranges only from 2.40", () => {
    assert.equal(unshareMapArgs({ major: 2, minor: 37 }, "--map-users", one), undefined);
    assert.equal(unshareMapArgs({ major: 2, minor: 39 }, "--map-users", two), undefined);
    assert.deepEqual(unshareMapArgs({ major: 2, minor: 40 }, "--map-users", two), ["--map-users=1:165536:65536", "--map-users=65537:300000:10"]);
  });
});

describe("planNamespaceEntry", () => {
  let tmp: { path: string; cleanup: () => Promise<void> };
  let subuid: string;
  let subgid: string;
  let twoRanges: string;
  let noUidmapPath: string;
  let noBuildahPath: string;
  before(async () => {
    requireTool("unshare");
    requireTool("newuidmap");
    requireTool("buildah");
    tmp = await tempDir("imgcopy-userns-plan-");
    subuid = join(tmp.path, "subuid");
    subgid = join(tmp.path, "subgid");
    twoRanges = join(tmp.path, "subuid2");
    await writeFile(subuid, "alice:165536:65536\n");
    await writeFile(subgid, "alice:165536:65536\n");
    await writeFile(twoRanges, "alice:165536:65536\nalice:300000:10\n");
    // PATHs that lack a tool: symlinks to the real ones, minus one.
    noUidmapPath = join(tmp.path, "no-uidmap");
    noBuildahPath = join(tmp.path, "no-buildah");
    await mkdir(noUidmapPath);
    await mkdir(noBuildahPath);
    for (const tool of ["unshare", "buildah"]) await symlink(findExecutable(tool, process.env.PATH ?? "")!, join(noUidmapPath, tool));
    for (const tool of ["unshare", "newuidmap", "newgidmap"]) await symlink(findExecutable(tool, process.env.PATH ?? "")!, join(noBuildahPath, tool));
  });
  after(async () => tmp.cleanup());

  const base = { uid: 1002, gid: 1002, userName: "alice", what: "container-copy store overlay@/home/alice/s", target: ["/usr/bin/node", "main.js"] };

  it("uses this machine's util-linux unshare with podman's map", async () => {
    const plan = await planNamespaceEntry({ ...base, path: process.env.PATH ?? "", subuidFile: subuid, subgidFile: subgid });
    assert.equal(plan.tool, "unshare");
    const mapArgs = plan.args.filter((a) => a.startsWith("--map-"));
    assert.equal(mapArgs[0], "--map-root-user");
    assert.ok(["--map-users=165536,1,65536", "--map-users=1:165536:65536"].includes(mapArgs[1]!), mapArgs[1]);
    assert.deepEqual(plan.args.slice(-3), ["--", "/usr/bin/node", "main.js"]);
  });

  it("falls back to buildah unshare when util-linux cannot map several ranges", async () => {
    const plan = await planNamespaceEntry({ ...base, path: process.env.PATH ?? "", subuidFile: twoRanges, subgidFile: subgid, unshareVersionText: "unshare from util-linux 2.38.1" });
    assert.equal(plan.tool, "buildah");
    assert.deepEqual(plan.args.slice(0, 2), ["unshare", "--"]);
    assert.deepEqual(plan.uidMap.map((r) => r.inner), [0, 1, 65537]);
  });

  it("names /etc/subuid, the user and the fix when the user has no range", async () => {
    await assert.rejects(
      planNamespaceEntry({ ...base, userName: "carol", uid: 1005, path: process.env.PATH ?? "", subuidFile: subuid, subgidFile: subgid }),
      (err: Error) => {
        assert.match(err.message, /^cannot enter the user namespace to read container-copy store overlay@\/home\/alice\/s: user "carol" \(uid 1005\) has no subordinate uid range in .*subuid; as root, add one: usermod --add-subuids/);
        assert.ok(!err.message.includes("\n"));
        return true;
      },
    );
  });

  it("says to install uidmap when newuidmap is missing", async () => {
    await assert.rejects(planNamespaceEntry({ ...base, path: noUidmapPath, subuidFile: subuid, subgidFile: subgid }), /newuidmap\/newgidmap are not installed; install them \(apt-get install uidmap\)/);
  });

  it("says what to install when neither unshare nor buildah can map the ranges", async () => {
    await assert.rejects(
      planNamespaceEntry({ ...base, path: noBuildahPath, subuidFile: twoRanges, subgidFile: subgid, unshareVersionText: "unshare from util-linux 2.38.1" }),
      /util-linux unshare 2\.38 cannot map 2 subordinate range\(s\).*install buildah or a newer util-linux/,
    );
  });
});

describe("process state", () => {
  it("needs the namespace only as an unprivileged user outside it", () => {
    assert.equal(userNamespaceNeeded({}, 0), false);
    assert.equal(userNamespaceNeeded({}, 1002), true);
    assert.equal(userNamespaceNeeded({ _CONTAINERS_USERNS_CONFIGURED: "done" }, 1002), false);
    assert.equal(insideUserNamespace({ _CONTAINERS_USERNS_CONFIGURED: "1" }), false);
  });
  it("gives the child the markers, the user's ids and a resolved HOME", () => {
    const env = namespaceChildEnv({ PATH: "/bin" }, 1002, 1003);
    assert.equal(env._CONTAINERS_USERNS_CONFIGURED, "done");
    assert.equal(env._CONTAINERS_ROOTLESS_UID, "1002");
    assert.equal(env._CONTAINERS_ROOTLESS_GID, "1003");
    assert.ok(env.HOME && env.HOME.startsWith("/"));
    assert.equal(rootlessUid(env, 0), 1002);
    assert.equal(rootlessUid({}, 0), 0);
  });

  it("inside the namespace, the store defaults are the user's (HOME and host uid from the parent)", async () => {
    const tmp = await tempDir("imgcopy-userns-home-");
    try {
      const graph = join(tmp.path, ".local/share/containers/storage");
      await mkdir(graph, { recursive: true });
      const env = { HOME: tmp.path, _CONTAINERS_USERNS_CONFIGURED: "done", _CONTAINERS_ROOTLESS_UID: "1234", CONTAINERS_STORAGE_CONF: join(tmp.path, "none.conf") };
      const loc = await locateStore({ driver: "vfs" }, { env });
      assert.equal(loc.graphRoot, graph);
      assert.equal(loc.runRoot, "/tmp/containers-user-1234/containers");
      assert.equal((await locateStore({ driver: "vfs" }, { env: { ...env, TMPDIR: "/var/tmp" } })).runRoot, "/var/tmp/containers-user-1234/containers");
    } finally {
      await tmp.cleanup();
    }
  });
});
