// A layer's chain of ancestors, from the base layer up to it, as the layer records link them.
import { CorruptInputError } from "../../../src/errors.js";
import type { LayerRecord } from "./record-types.js";
import type { Located, StoreRecords } from "./records.js";

/** The layers from the base up to `topLayerId` (base first); [] when there is no top layer. */
export function layerChain(records: StoreRecords, topLayerId: string | undefined, owner: string): Located<LayerRecord>[] {
  const chain: Located<LayerRecord>[] = [];
  const seen = new Set<string>();
  let id = topLayerId;
  let child: string | undefined;
  while (id) {
    if (seen.has(id)) throw new CorruptInputError(`layer records of ${owner} form a cycle at layer ${id}`);
    seen.add(id);
    const layer = records.layers.get(id);
    if (!layer) {
      const what = child ? `layer ${id} (parent of ${child})` : `layer ${id}`;
      throw new CorruptInputError(`${what} of ${owner} is missing or incomplete in the store's layer records`);
    }
    chain.push(layer);
    child = id;
    id = layer.record.parent;
  }
  return chain.reverse();
}

/** The ancestors of chain[index], nearest first (overlay lowers; vfs parent = [0]). */
export function lowersOf<T>(chain: T[], index: number): T[] {
  return chain.slice(0, index).reverse();
}
