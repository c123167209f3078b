// Shared by the docker:// tests: a plain-HTTP registry with one pushed image whose layer is a few MiB
// of incompressible bytes (so a connection can be cut in the middle of it), and contexts for it.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { copyImage } from "../../../src/copy/index.js";
import type { SystemContext } from "../../../src/types.js";
import { parseDockerReference } from "../../../transports/docker/reference.js";
import { parseOciReference } from "../../../transports/oci/reference.js";
import { MemoryImage, MemoryReference } from "../../copy/memory-transport.js";
import { addImage, tarOf, type BuiltImage } from "../../copy/test-images.js";
import { startRegistry, type RegistryServer } from "../../helpers/registry-server.js";
import { tempDir } from "../../helpers/tools.js";

export interface PushedImage {
  registry: RegistryServer;
  built: BuiltImage;
  /** docker://HOST/REPO:TAG on the registry itself. */
  ref: string;
  work: { path: string; cleanup: () => Promise<void> };
  ctx: SystemContext;
  cleanup(): Promise<void>;
}

/** A context for a plain-HTTP registry with a HOME of its own (no auth file, no cert dir of the machine's user). */
export function plainHttpContext(home: string, extra: SystemContext = {}): SystemContext {
  return { env: { PATH: process.env.PATH, HOME: home }, dockerInsecureSkipTLSVerify: true, ...extra };
}

/** Starts a registry and pushes an image with a config and one `layerBytes`-byte gzip layer of random bytes. */
export async function registryWithImage(layerBytes = 3 * 1024 * 1024, repo = "faults/img:1"): Promise<PushedImage> {
  const work = await tempDir("imgcopy-docker-test-");
  const registry = await startRegistry();
  const image = new MemoryImage();
  const built = addImage(image, { layers: [{ tar: await tarOf({ "random.bin": randomBytes(layerBytes).toString("latin1") }), compression: "gzip" }] });
  const ctx = plainHttpContext(work.path);
  const ref = `docker://${registry.host}/${repo}`;
  await copyImage(new MemoryReference("fixture", image), parseDockerReference(ref.slice("docker:".length)), { destCtx: ctx });
  return {
    registry,
    built,
    ref,
    work,
    ctx,
    cleanup: async () => {
      await registry.stop();
      await work.cleanup();
    },
  };
}

/** Pulls `ref` (docker://...) into a new OCI layout under `dir`; resolves with the manifest digest. */
export async function pullToOci(ref: string, dir: string, ctx: SystemContext): Promise<string> {
  const result = await copyImage(parseDockerReference(ref.slice("docker:".length)), parseOciReference(`${dir}:x`), { sourceCtx: ctx });
  return result.manifestDigest;
}

/** The digests index.json of an OCI layout names. */
export async function ociIndexDigests(dir: string): Promise<string[]> {
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
  return index.manifests.map((m) => m.digest);
}
