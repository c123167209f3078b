// `imgcopy list container-copy:[STORE]`: the containers and images of a store, from its records.
import { BadReferenceError } from "../../src/errors.js";
import type { ListedItem, SystemContext } from "../../src/types.js";
import { parseStoreSpec } from "./reference.js";
import { layerChain } from "./store/layer-chain.js";
import { lockStoreForReading } from "./store/locks.js";
import type { ImageRecord } from "./store/record-types.js";
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
  try {
    records = await readStoreRecords(location);
  } finally {
    await locks.releaseAll();
  }
  const items: ListedItem[] = records.containers.map(({ record: c }) => {
    const item: ListedItem = { kind: "container", id: c.id, names: c.names ?? [], image: c.image ?? "" };
    if (c.created) item.created = c.created;
    return item;
  });
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
