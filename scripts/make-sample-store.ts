// Builds the bundled sample store (test/fixtures/sample-store/store.tar.gz): a small real buildah
// store (vfs driver, so reading it needs no mounts) holding a two-layer image and a working container
// "sample-container" with changes and config. Run as root: `node --import tsx scripts/make-sample-store.ts`.
import { appendFile, chmod, chown, mkdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setAttribute } from "fs-xattr";
import { commitContainer, configure, createStore, type Store } from "../test/helpers/buildah-store.js";
import { run } from "../test/helpers/tools.js";

const ARCHIVE = fileURLToPath(new URL("../test/fixtures/sample-store/store.tar.gz", import.meta.url));
const IMAGE = "localhost/sample-base:1";
const CONTAINER = "sample-container";

async function put(root: string, rel: string, content: string, mode = 0o644, uid = 0, gid = 0): Promise<void> {
  const p = join(root, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, content);
  await chown(p, uid, gid);
  await chmod(p, mode);
}

async function mounted(store: Store, container: string): Promise<string> {
  return store.buildah(["mount", container]);
}

async function build(store: Store): Promise<void> {
  const l1 = await store.buildah(["from", "--name", "sample-stage1", "scratch"]);
  let root = await mounted(store, l1);
  await put(root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
  await put(root, "etc/group", "root:x:0:\nuser:x:1000:\n");
  await put(root, "etc/motd", "welcome to the sample\n");
  await put(root, "etc/legacy.conf", "legacy=1\n");
  await put(root, "usr/bin/hello", "#!/bin/sh\necho hello from the sample\n", 0o755);
  await put(root, "usr/bin/ping-like", "#!/bin/sh\n", 0o4755);
  await symlink("usr/bin", join(root, "bin"));
  await put(root, "home/user/.profile", "export PS1='$ '\n", 0o600, 1000, 1000);
  await chown(join(root, "home/user"), 1000, 1000);
  await chmod(join(root, "home/user"), 0o750);
  await commitContainer(store, l1, "localhost/sample-stage1:1", ["--rm"]);

  const l2 = await store.buildah(["from", "--pull=never", "--name", "sample-stage2", "localhost/sample-stage1:1"]);
  root = await mounted(store, l2);
  await put(root, "opt/app/README", "the sample app\n");
  await put(root, "opt/app/config.json", '{"level": 1}\n', 0o640, 0, 1000);
  await rm(join(root, "etc/motd"));
  await store.buildah(["config", "--env", "PATH=/usr/bin:/bin", "--cmd", '["/usr/bin/hello"]', "--workingdir", "/opt/app",
    "--label", "org.opencontainers.image.title=sample", "--port", "8080/tcp", "--volume", "/data", l2]);
  await commitContainer(store, l2, IMAGE, ["--rm"]);
  await store.buildah(["rmi", "localhost/sample-stage1:1"]);

  await store.buildah(["from", "--pull=never", "--name", CONTAINER, IMAGE]);
  root = await mounted(store, CONTAINER);
  await put(root, "data/notes.txt", "written in the container\n", 0o640, 1000, 1000);
  await setAttribute(join(root, "data/notes.txt"), "user.comment", "sample xattr");
  await appendFile(join(root, "opt/app/README"), "changed in the container\n");
  await rm(join(root, "etc/legacy.conf"));
  await chmod(join(root, "opt/app/config.json"), 0o600);
  await symlink("/opt/app/README", join(root, "data/readme-link"));
  await configure(store, CONTAINER, {
    env: ["SAMPLE=yes"],
    cmd: ["/usr/bin/hello", "--from-container"],
    entrypoint: [],
    workingDir: "/data",
    labels: { "org.example.changed": "true" },
    user: "1000:1000",
    ports: ["9090/udp"],
    volumes: [],
    stopSignal: "SIGTERM",
  });
  await store.buildah(["umount", CONTAINER]);
}

const store = await createStore("vfs");
try {
  await build(store);
  await rm(join(store.graphRoot, "tmp"), { recursive: true, force: true }); // buildah's scratch space: empty
  await mkdir(dirname(ARCHIVE), { recursive: true });
  await run("tar", ["--xattrs", "--xattrs-include=*", "--numeric-owner", "--sort=name", "-p", "-czf", ARCHIVE, "-C", store.graphRoot, "."], {
    env: { ...process.env, GZIP: "-n" },
  });
  console.error(`wrote ${ARCHIVE} (${(await stat(ARCHIVE)).size} bytes)`);
} finally {
  await store.cleanup();
}
