// Reading a store's JSON records: layers, images and containers, merged from the primary store,
// its volatile files (under the run root for a transient store) and the additional image stores.
// Each kind is de-duplicated by id, the first record found winning, as containers/storage does.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CorruptInputError, describeFsError } from "../../../src/errors.js";
import type { ContainerRecord, ImageRecord, LayerRecord, StoreLocation } from "./record-types.js";

/** A record and the store root (graph root or additional image store) that holds it. */
export interface Located<T> {
  record: T;
  root: string;
  /** The records file it came from, for error messages. */
  file: string;
}

export interface StoreRecords {
  location: StoreLocation;
  /** By layer id; incomplete layers are left out. */
  layers: Map<string, Located<LayerRecord>>;
  images: Located<ImageRecord>[];
  containers: Located<ContainerRecord>[];
}

interface RecordsFile {
  root: string;
  path: string;
}

/** The records files of each kind, in precedence order. */
export function recordsFiles(location: StoreLocation): { layers: RecordsFile[]; images: RecordsFile[]; containers: RecordsFile[] } {
  const { driver: d, graphRoot: g, runRoot: r, transientStore } = location;
  const volatileBase = transientStore ? r : g;
  const layers: RecordsFile[] = [
    { root: g, path: join(g, `${d}-layers`, "layers.json") },
    { root: g, path: join(volatileBase, `${d}-layers`, "volatile-layers.json") },
  ];
  const images: RecordsFile[] = [{ root: g, path: join(g, `${d}-images`, "images.json") }];
  for (const a of location.additionalImageStores) {
    layers.push({ root: a, path: join(a, `${d}-layers`, "layers.json") });
    images.push({ root: a, path: join(a, `${d}-images`, "images.json") });
  }
  const containers: RecordsFile[] = [
    { root: g, path: join(g, `${d}-containers`, "containers.json") },
    { root: g, path: join(volatileBase, `${d}-containers`, "volatile-containers.json") },
  ];
  return { layers, images, containers };
}

/** Reads every records file of the store. Call with the store's read locks held. */
export async function readStoreRecords(location: StoreLocation): Promise<StoreRecords> {
  const files = recordsFiles(location);
  const layers = new Map<string, Located<LayerRecord>>();
  for (const f of files.layers) {
    for (const record of await readRecordsFile<LayerRecord>(f.path)) {
      if (record.flags?.incomplete === true) continue;
      if (!layers.has(record.id)) layers.set(record.id, { record, root: f.root, file: f.path });
    }
  }
  return {
    location,
    layers,
    images: await readKind<ImageRecord>(files.images),
    containers: await readKind<ContainerRecord>(files.containers),
  };
}

async function readKind<T extends { id: string }>(files: RecordsFile[]): Promise<Located<T>[]> {
  const seen = new Set<string>();
  const out: Located<T>[] = [];
  for (const f of files) {
    for (const record of await readRecordsFile<T>(f.path)) {
      if (seen.has(record.id)) continue;
      seen.add(record.id);
      out.push({ record, root: f.root, file: f.path });
    }
  }
  return out;
}

/** One records file: [] when it does not exist or is empty; CorruptInputError when malformed. */
export async function readRecordsFile<T extends { id: string }>(path: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw describeFsError(err, `store records ${path}`);
  }
  if (text.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CorruptInputError(`store records ${path} are not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) throw new CorruptInputError(`store records ${path}: expected a JSON array`);
  parsed.forEach((r, i) => {
    if (typeof r !== "object" || r === null || typeof (r as { id?: unknown }).id !== "string" || (r as { id: string }).id === "") {
      throw new CorruptInputError(`store records ${path}: entry ${i} has no id`);
    }
  });
  return parsed as T[];
}
