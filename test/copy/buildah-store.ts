// Real images for tests, made FROM SCRATCH with buildah in a throwaway vfs store.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { run } from "../helpers/tools.js";

export interface ScratchImage {
  files: Record<string, string>;
  arch?: string;
  labels?: Record<string, string>;
  env?: string[];
}

export class BuildahStore {
  constructor(readonly root: string) {}

  private args(rest: string[]): string[] {
    return ["--root", join(this.root, "g"), "--runroot", join(this.root, "r"), "--storage-driver", "vfs", ...rest];
  }

  async buildah(...rest: string[]): Promise<string> {
    return (await run("buildah", this.args(rest))).stdout.trim();
  }

  /** Commits an image `name` holding `spec.files` on top of scratch. */
  async makeImage(name: string, spec: ScratchImage): Promise<void> {
    const container = await this.buildah("from", "scratch");
    const mount = await this.buildah("mount", container);
    for (const [path, content] of Object.entries(spec.files)) {
      await mkdir(dirname(join(mount, path)), { recursive: true });
      await writeFile(join(mount, path), content);
    }
    const config: string[] = [];
    if (spec.arch) config.push("--arch", spec.arch);
    for (const [k, v] of Object.entries(spec.labels ?? {})) config.push("--label", `${k}=${v}`);
    for (const e of spec.env ?? []) config.push("--env", e);
    if (config.length > 0) await this.buildah("config", ...config, container);
    await this.buildah("commit", "-q", container, name);
    await this.buildah("rm", container);
  }

  /** buildah push NAME DEST (e.g. oci:/path:tag, dir:/path), optionally forcing a format. */
  async push(name: string, dest: string, format?: "oci" | "v2s2"): Promise<void> {
    await this.buildah("push", "-q", ...(format ? ["--format", format] : []), name, dest);
  }
}
