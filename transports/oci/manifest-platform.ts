// The platform of an image manifest, read from its config (os, architecture, variant), for index.json.
import { blobPath, parseJson, readSmallFile, type OciPlatform } from "./layout-files.js";

/** The platform of `manifestBytes`'s config, when the config is in the layout and says; else undefined. */
export async function platformOf(layoutPath: string, manifestBytes: Uint8Array): Promise<OciPlatform | undefined> {
  try {
    const manifest = parseJson(manifestBytes, "manifest") as { config?: { digest?: unknown } };
    const digest = manifest?.config?.digest;
    if (typeof digest !== "string") return undefined;
    const config = parseJson(await readSmallFile(blobPath(layoutPath, digest, digest), digest), digest) as Record<string, unknown>;
    const { os, architecture, variant } = config ?? {};
    if (typeof os !== "string" || os === "" || typeof architecture !== "string" || architecture === "") return undefined;
    return typeof variant === "string" && variant !== "" ? { architecture, os, variant } : { architecture, os };
  } catch {
    return undefined; // the platform is optional in index.json: no config, no platform
  }
}
