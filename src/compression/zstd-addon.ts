// The optional zstd-napi addon, loaded on first use so that imgcopy works without it.
import type { Transform } from "node:stream";
import { UnsupportedError } from "../errors.js";

export interface ZstdAddon {
  CompressStream: new (parameters?: { compressionLevel?: number }) => Transform;
  DecompressStream: new () => Transform;
}

let cached: Promise<ZstdAddon> | undefined;

/** Imports the addon from `specifier`; UnsupportedError saying why when it did not build. */
export async function importZstdAddon(specifier = "zstd-napi"): Promise<ZstdAddon> {
  try {
    const mod = (await import(specifier)) as Partial<ZstdAddon> & { default?: Partial<ZstdAddon> };
    const addon = mod.CompressStream ? mod : mod.default;
    if (!addon?.CompressStream || !addon.DecompressStream) throw new Error("the module has no CompressStream/DecompressStream");
    return addon as ZstdAddon;
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new UnsupportedError(`zstd support did not build (zstd-napi): ${why}`, { cause: err });
  }
}

/** The addon, imported once per process. */
export function loadZstd(): Promise<ZstdAddon> {
  cached ??= importZstdAddon();
  return cached;
}

/** True when zstd can be used here. */
export async function zstdAvailable(): Promise<boolean> {
  return loadZstd().then(
    () => true,
    () => false,
  );
}
