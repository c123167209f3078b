// Fixture: a two-layer image built FROM SCRATCH with buildah in a throwaway vfs store, and the
// helpers the dir and oci transport tests share (skopeo copies, hashing, tree snapshots).
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile, lstat } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../../helpers/tools.js";

export interface ScratchStore {
  /** "containers-storage:[vfs@G+R]" — append an image name. */
  storageRef: string;
  /** The images built: localhost/x:1 (one layer) and localhost/x:2 (two layers). */
  images: string[];
}

/** Builds localhost/x:1 and localhost/x:2 in a vfs store under `dir`. */
export async function buildScratchStore(dir: string): Promise<ScratchStore> {
  const g = join(dir, "g");
  const r = join(dir, "r");
  const b = (...args: string[]) => run("buildah", ["--root", g, "--runroot", r, "--storage-driver", "vfs", ...args]);
  const c1 = (await b("from", "scratch")).stdout.trim();
  const m1 = (await b("mount", c1)).stdout.trim();
  await mkdir(join(m1, "etc"), { recursive: true });
  await writeFile(join(m1, "etc", "hello"), "hello from a scratch image\n");
  await b("config", "--os", "linux", "--arch", "amd64", "--env", "GREETING=hello", "--cmd", "/bin/true", c1);
  await b("commit", "-q", c1, "localhost/x:1");
  const c2 = (await b("from", "localhost/x:1")).stdout.trim();
  const m2 = (await b("mount", c2)).stdout.trim();
  await writeFile(join(m2, "two"), "second layer\n".repeat(100));
  await b("commit", "-q", c2, "localhost/x:2");
  await b("rm", c1, c2);
  return { storageRef: `containers-storage:[vfs@${g}+${r}]`, images: ["localhost/x:1", "localhost/x:2"] };
}

/** skopeo copy, quietly. */
export async function skopeoCopy(src: string, dest: string, ...flags: string[]): Promise<void> {
  await run("skopeo", ["copy", "-q", ...flags, src, dest]);
}

export async function skopeoInspect(ref: string, ...flags: string[]): Promise<Record<string, unknown>> {
  return JSON.parse((await run("skopeo", ["inspect", ...flags, ref])).stdout) as Record<string, unknown>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Reads a stream to the end, hashing it; returns digest and size. */
export async function hashStream(stream: NodeJS.ReadableStream): Promise<{ digest: string; size: number }> {
  const h = createHash("sha256");
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    h.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${h.digest("hex")}`, size };
}

/** Every entry under `dir` with its type and content hash: equal snapshots = byte-identical trees. */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string): Promise<void> {
    const abs = join(dir, rel);
    const st = await lstat(abs);
    if (st.isDirectory()) {
      out[rel || "."] = `dir ${st.mode.toString(8)}`;
      for (const name of (await readdir(abs)).sort()) await walk(rel ? join(rel, name) : name);
    } else {
      out[rel] = `file ${st.mode.toString(8)} ${sha256Hex(await readFile(abs))}`;
    }
  }
  await walk("");
  return out;
}

export interface ManifestJson {
  mediaType?: string;
  config: { digest: string; size: number; mediaType: string };
  layers: { digest: string; size: number; mediaType: string }[];
}
