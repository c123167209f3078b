// `imgcopy list container-copy:[STORE]`: the containers and images of a store, from its records,
// with the tool that made each container (podman's record, buildah's buildah.json, else other).
import { BadReferenceError, isImgcopyError } from "../../src/errors.js";
import type { ListedItem, SystemContext } from "../../src/types.js";
import type { LibpodState } from "./libpod/container-record.js";
import { isFile, readLibpodState } from "./libpod/state.js";
import { parseStoreSpec } from "./reference.js";
import { buildahStatePath } from "./store/big-data.js";
import { layerChain } from "./store/layer-chain.js";
import { lockStoreForReading } from "./store/locks.js";
import type { ContainerRecord, ImageRecord, StoreLocation } from "./store/record-types.js";
import { readStoreRecords, type Located, type StoreRecords } from "./store/records.js";
import { locateStore } from "./store/store-location.js";

export async function listStore(transportName: string, locationText: string, ctx: SystemContext): Promise<ListedItem[]> {
  const { spec, rest } = parseStoreSpec(locationText, transportName);
  if (rest !== "") {
    throw new BadReferenceError(`${transportName}: list takes a store ([DRIVER@GRAPHROOT+RUNROOT]) or nothing, not ${JSON.stringify(rest)}`);
  }
  const location = await locateStore(spec, ctx);
  const locks = await lockStoreForReading(location, ctx);
  let records: StoreRecords;
  let libpod: LibpodState | undefined;
  try {
    records = await readStoreRecords(location);
    libpod = await readLibpodForListing(location, ctx);
  } finally {
    await locks.releaseAll();
  }
  const items: ListedItem[] = [];
  for (const { record: c } of records.containers) {
    const podmanName = libpod?.containers.get(c.id)?.name;
    const names = c.names ?? [];
    const item: ListedItem = { kind: "container", id: c.id, names: podmanName && !names.includes(podmanName) ? [podmanName, ...names] : names, image: c.image ?? "" };
    item.madeBy = await madeBy(location, c, libpod);
    if (c.created) item.created = c.created;
    items.push(item);
  }
  for (const image of records.images) {
    const item: ListedItem = { kind: "image", id: image.record.id, names: image.record.names ?? [] };
    if (image.record.created) item.created = image.record.created;
    const size = imageSize(records, image);
    if (size !== undefined) item.size = size;
    items.push(item);
  }
  return items;
}

/** The sum of the image's layers' uncompressed sizes; undefined when one is unknown or missing. */
function imageSize(records: StoreRecords, image: Located<ImageRecord>): number | undefined {
  try {
    let total = 0;
    for (const layer of layerChain(records, image.record.layer, `image ${image.record.id}`)) {
      const size = layer.record["diff-size"];
      if (typeof size !== "number") return undefined;
      total += size;
    }
    return total;
  } catch {
    // A broken chain is reported when the image is used, not when it is listed.
    return undefined;
  }
}

/** A listing is still useful without podman's record: a damaged database is a warning here. */
async function readLibpodForListing(location: StoreLocation, ctx: SystemContext): Promise<LibpodState | undefined> {
  try {
    return await readLibpodState(location, ctx);
  } catch (err) {
    if (!isImgcopyError(err) || err.code === "EABORT") throw err;
    ctx.warn?.(`${err.message}; podman's containers are not told apart`);
    return undefined;
  }
}

/** podman's when its database has the container (podman writes a buildah.json too), buildah's when it has buildah.json. */
async function madeBy(location: StoreLocation, c: ContainerRecord, libpod: LibpodState | undefined): Promise<"podman" | "buildah" | "other"> {
  if (libpod?.containers.has(c.id)) return "podman";
  return (await isFile(buildahStatePath(location.graphRoot, location.driver, c.id))) ? "buildah" : "other";
}
