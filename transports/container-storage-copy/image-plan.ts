// What a reference turns into, decided from the records alone: the layers (base first), the
// config bytes served and the manifest annotations. No layer content is read here.
import type { SystemContext } from "../../src/types.js";
import { buildCommitConfig, buildImageConfig, commitTimestamp, minimalConfig, parseImageConfig, type ImageConfig } from "./config.js";
import { describeLayers, type ImageLayer } from "./image-manifest.js";
import { readLibpodState } from "./libpod/state.js";
import { bigDataPath, readBuildahState, readImageConfig, type BuildahState } from "./store/big-data.js";
import { layerChain } from "./store/layer-chain.js";
import type { ImageRecord, LayerRecord, StoreLocation } from "./store/record-types.js";
import type { Located, StoreRecords } from "./store/records.js";
import type { ResolvedTarget } from "./store/resolve.js";
import { asksNoChange, usableStoredManifest, type StoredManifest } from "./stored-manifest.js";

export interface ImagePlan {
  /** "container <id>" or "image <id>", for messages. */
  what: string;
  layers: ImageLayer[];
  configBytes: Uint8Array;
  annotations: Record<string, string>;
  /** An image's own manifest from the store, served as it is (then configBytes are the stored config). */
  stored?: StoredManifest;
  /** The repository the reference named (skopeo inspect's "Name"). */
  dockerName?: string;
  /** --timestamp: whole seconds every entry of a diffed (read-write) layer gets as its mtime, as buildah commit does. */
  diffMtime?: number;
}

export async function planImage(records: StoreRecords, target: ResolvedTarget, ctx: SystemContext): Promise<ImagePlan> {
  if (target.kind === "container") return planContainer(records, target, ctx);
  const plan = await planStoredImage(records, target.image, ctx, target.manifestKey);
  if (target.dockerName !== undefined) plan.dockerName = target.dockerName;
  return plan;
}

async function planContainer(
  records: StoreRecords,
  target: Extract<ResolvedTarget, { kind: "container" }>,
  ctx: SystemContext,
): Promise<ImagePlan> {
  const warn = ctx.warn ?? (() => {});
  const { location } = records;
  const container = target.container.record;
  const what = `container ${container.id}`;
  const chain = layerChain(records, container.layer, what);
  const top = chain[chain.length - 1];
  if (top) chain[chain.length - 1] = withContainerIdMapping(top, container, warn);
  const layers = describeLayers(chain);

  const buildah = await readBuildahState(location.graphRoot, location.driver, container.id);
  let base: ImageConfig;
  if (buildah?.ociv1) base = buildah.ociv1 as ImageConfig;
  else if (target.image) base = (await loadImageConfig(target.image, location)) ?? minimalConfig();
  else {
    if (container.image) warn(`${what}: its image ${container.image} is not in the store; using a minimal config`);
    base = minimalConfig();
  }
  // podman writes a buildah.json too (the image's config only): its libpod record says what the container has.
  const libpod = await readLibpodState(location, ctx);
  const podmanRecord = libpod?.containers.get(container.id);
  const podman = podmanRecord && libpod ? { container: podmanRecord, volumes: libpod.volumes, anonymousVolumes: libpod.anonymousVolumes } : undefined;
  // podman commit's history comment names the image by its first name, as buildah resolves it.
  const fromName = podman ? target.image?.record.names?.[0] : undefined;
  const config = buildCommitConfig({
    base,
    buildah: buildah ?? (fromName ? { image: fromName } : podmanState(container.metadata)),
    podman,
    diffIds: layers.map((l) => l.digest),
    commit: ctx.commit,
    created: commitTimestamp(ctx),
    warn,
  });
  const plan: ImagePlan = { what, layers, configBytes: serialize(config), annotations: { ...buildahAnnotations(buildah), ...ctx.commit?.annotations } };
  const timestamp = ctx.commit?.timestamp;
  if (timestamp !== undefined) plan.diffMtime = Math.floor(timestamp.getTime() / 1000);
  return plan;
}

async function planStoredImage(records: StoreRecords, image: Located<ImageRecord>, ctx: SystemContext, manifestKey?: string): Promise<ImagePlan> {
  const warn = ctx.warn ?? (() => {});
  const what = `image ${image.record.id}`;
  const layers = describeLayers(layerChain(records, image.record.layer, what));
  const annotations = { ...ctx.commit?.annotations };
  const stored = await readImageConfig(image, records.location.driver);
  if (!stored) {
    warn(`${what} has no config in the store; using a minimal config`);
    const config: ImageConfig = { ...minimalConfig(), rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) } };
    return { what, layers, configBytes: serialize(config), annotations };
  }
  if (asksNoChange(ctx.commit)) {
    const manifest = await usableStoredManifest(image, records.location.driver, stored.bytes, layers, warn, manifestKey);
    if (manifest) return { what, layers, configBytes: stored.bytes, annotations, stored: manifest };
  }
  const base = parseImageConfig(stored.bytes, `config ${bigDataPath(image, records.location.driver, stored.key)}`);
  const changed = buildImageConfig(base, ctx.commit, warn);
  // Unchanged, the stored bytes are served as they are: the config digest stays the image id.
  return { what, layers, configBytes: changed ? serialize(changed) : stored.bytes, annotations };
}

async function loadImageConfig(image: Located<ImageRecord>, location: StoreLocation): Promise<ImageConfig | undefined> {
  const stored = await readImageConfig(image, location.driver);
  return stored ? parseImageConfig(stored.bytes, `config ${bigDataPath(image, location.driver, stored.key)}`) : undefined;
}

/**
 * A container whose record maps ids while its read-write layer's record does not (idmapped
 * lower layers): the files it wrote carry host ids, so its layer is read through the container's mapping.
 */
function withContainerIdMapping(
  top: Located<LayerRecord>,
  container: { id: string; layer: string; uidmap?: LayerRecord["uidmap"]; gidmap?: LayerRecord["gidmap"] },
  warn: (m: string) => void,
): Located<LayerRecord> {
  if (top.record.id !== container.layer) return top;
  const needUid = !!container.uidmap?.length && !top.record.uidmap?.length;
  const needGid = !!container.gidmap?.length && !top.record.gidmap?.length;
  if (!needUid && !needGid) return top;
  warn(`container ${container.id} has an id mapping that its layer ${top.record.id} lacks; reading the layer through the container's mapping`);
  const record: LayerRecord = { ...top.record };
  if (needUid) record.uidmap = container.uidmap;
  if (needGid) record.gidmap = container.gidmap;
  return { ...top, record };
}

/** podman keeps the image name in the container's metadata; its commit comments "FROM <name>" as buildah does. */
function podmanState(metadata: string | undefined): BuildahState | undefined {
  if (!metadata) return undefined;
  try {
    const name = (JSON.parse(metadata) as { "image-name"?: unknown })["image-name"];
    return typeof name === "string" && name !== "" ? { image: name } : undefined;
  } catch {
    // Metadata is free-form: not JSON means no image name.
    return undefined;
  }
}

function buildahAnnotations(buildah: BuildahState | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(buildah?.annotations ?? {})) if (typeof v === "string" && v !== "") out[k] = v;
  return out;
}

function serialize(config: ImageConfig): Uint8Array {
  return Buffer.from(JSON.stringify(config), "utf8");
}
