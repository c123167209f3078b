// Picking the image of an index/list that fits the running platform (linux + Node's arch as GOARCH).
import { endianness } from "node:os";
import { NotFoundError } from "../errors.js";
import type { Descriptor, ImageIndex, Platform } from "./manifest-types.js";

const GOARCH: Partial<Record<NodeJS.Architecture, string>> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips: "mips",
  mipsel: "mipsle",
  ppc: "ppc",
  s390: "s390",
};

/** GOARCH for a Node architecture name (ppc64 depends on byte order). */
export function goArch(arch: NodeJS.Architecture | string = process.arch): string {
  if (arch === "ppc64") return endianness() === "LE" ? "ppc64le" : "ppc64";
  return GOARCH[arch as NodeJS.Architecture] ?? arch;
}

/** The platform images are chosen for: linux, this machine's architecture and, for arm, its variant. */
export function currentPlatform(): Platform {
  const architecture = goArch();
  const platform: Platform = { architecture, os: "linux" };
  if (architecture === "arm") {
    const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
    if (typeof armVersion === "string" || typeof armVersion === "number") platform.variant = `v${armVersion}`;
  } else if (architecture === "arm64") {
    platform.variant = "v8";
  }
  return platform;
}

/** Variants a machine of `platform` runs, best first ("" = an entry that names no variant). */
function acceptedVariants(platform: Platform): string[] {
  const v = platform.variant;
  if (platform.architecture === "arm") {
    const n = Number(v?.slice(1) ?? "7");
    const list: string[] = [];
    for (let i = n; i >= 5; i--) list.push(`v${i}`);
    return [...list, ""];
  }
  return v ? [v, ""] : [""];
}

function describePlatform(p: Platform | undefined): string {
  if (!p) return "(no platform)";
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

/**
 * The entry of `index` for `platform` (default: this machine). Entries without a platform are a
 * last resort, as older OCI indexes omit it. NotFoundError names `what` and what the index has.
 */
export function chooseInstance(index: ImageIndex, what: string, platform: Platform = currentPlatform()): Descriptor {
  const variants = acceptedVariants(platform);
  let best: { entry: Descriptor; rank: number } | undefined;
  for (const entry of index.manifests) {
    const p = entry.platform;
    if (!p || p.os !== platform.os || p.architecture !== platform.architecture) continue;
    const rank = variants.indexOf(p.variant ?? "");
    if (rank >= 0 && (!best || rank < best.rank)) best = { entry, rank };
  }
  if (best) return best.entry;
  const unnamed = index.manifests.find((entry) => !entry.platform);
  if (unnamed) return unnamed;
  const available = index.manifests.map((e) => describePlatform(e.platform)).join(", ") || "nothing";
  throw new NotFoundError(`${what}: no image for ${describePlatform(platform)} (the index has: ${available})`);
}
