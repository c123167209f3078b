// The library: copy and inspect images, parse references, add transports. Everything a plugin needs
// to be written against the published package (types, errors, digests, media types) is here too.
// The engine is imported on first use, so a plugin importing this module for its errors stays light.
import { ensureDefaultPlugins, parseReferenceIn } from "./plugins.js";
import { defaultRegistry, type TransportOrigin } from "./registry.js";
import type { ImageReference, ImageTransport } from "./types.js";
import type { CopyOptions, CopyResult } from "./copy/index.js";
import type { InspectOptions, InspectResult } from "./inspect.js";

export type * from "./types.js";
export type { CopyOptions, CopyResult } from "./copy/index.js";
export type { InspectOptions, InspectResult, InspectSummary } from "./inspect.js";
export { TransportRegistry, defaultRegistry, type TransportEntry, type TransportOrigin } from "./registry.js";
export * from "./errors.js";
export * from "./digest.js";
export * from "./manifest/media-types.js";
export { writeFileAtomic, writeStreamAtomic, makeTempDirBeside, tempPathFor } from "./atomic-fs.js";
// Rootless containers/storage stores are read inside the user's namespace: a program that uses the
// library as an unprivileged user calls `if (userNamespaceNeeded()) process.exit(await runInUserNamespace({ what }))` first.
export { runInUserNamespace, userNamespaceNeeded, insideUserNamespace, type ReexecOptions } from "./userns/index.js";
export {
  IMGCOPY_API_VERSION,
  loadPlugins,
  declarePlugin,
  refusedPlugins,
  PluginRefusal,
  bundledManifestPaths,
  readPluginManifest,
  checkApiCompatibility,
  discoverPlugins,
  userPluginFolder,
  type LoadPluginsOptions,
  type LoadedPlugin,
  type RefusedPlugin,
  type PluginManifest,
  type PluginTransportDeclaration,
  type PluginLocation,
  type PluginSource,
} from "./plugins.js";

/**
 * Parses "transport:details" with the default registry. The first call reads the plugin manifests
 * (bundled, IMGCOPY_PLUGINS, the user's folder; a refused one is skipped, see refusedPlugins); a
 * transport's module is imported when named. Naming a transport only a refused plugin declared
 * fails with that plugin's reason.
 */
export async function parseReference(text: string): Promise<ImageReference> {
  ensureDefaultPlugins();
  return parseReferenceIn(defaultRegistry, text);
}

/** Adds a transport object to the default registry (a name taken already is a PluginError). */
export function registerTransport(transport: ImageTransport, meta: { description?: string; origin?: TransportOrigin } = {}): void {
  ensureDefaultPlugins();
  defaultRegistry.register(transport, meta);
}

/**
 * Copies an image. References may be given as text ("oci:./in:latest"). Progress arrives as
 * events through `options.onProgress`; `options.signal` cancels (the destination is left as it was).
 */
export async function copyImage(src: ImageReference | string, dest: ImageReference | string, options: CopyOptions = {}): Promise<CopyResult> {
  const [from, to] = [await toReference(src), await toReference(dest)];
  const engine = await import("./copy/index.js");
  return engine.copyImage(from, to, options);
}

/**
 * skopeo inspect's summary ({kind: "json"}); with `config` the image config; with `raw` the
 * manifest (or with `config`, the config) bytes as stored ({kind: "bytes"}).
 */
export async function inspectImage(ref: ImageReference | string, options?: InspectOptions): Promise<InspectResult> {
  const reference = await toReference(ref);
  const { inspectImage: inspect } = await import("./inspect.js");
  return inspect(reference, options);
}

async function toReference(ref: ImageReference | string): Promise<ImageReference> {
  return typeof ref === "string" ? parseReference(ref) : ref;
}
