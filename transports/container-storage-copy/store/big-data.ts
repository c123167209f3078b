// Side files of records: an image's "big data" (config, manifest, signatures) and a buildah
// working container's buildah.json.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256 } from "../../../src/digest.js";
import { CorruptInputError, NotFoundError, describeFsError } from "../../../src/errors.js";
import type { ImageRecord, StorageDriver } from "./record-types.js";
import type { Located } from "./records.js";

/** The file name containers/storage gives a big data key: as is when made of [.0-9a-z], else "=" + base64. */
export function bigDataFileName(key: string): string {
  return /^[.0-9a-z]+$/.test(key) ? key : "=" + Buffer.from(key, "utf8").toString("base64");
}

export function bigDataPath(image: Located<ImageRecord>, driver: StorageDriver, key: string): string {
  return join(image.root, `${driver}-images`, image.record.id, bigDataFileName(key));
}

/** An image's big data item; undefined when the image has no such key. */
export async function readImageBigData(image: Located<ImageRecord>, driver: StorageDriver, key: string): Promise<Buffer | undefined> {
  const names = image.record["big-data-names"];
  if (names && !names.includes(key)) return undefined;
  const path = bigDataPath(image, driver, key);
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      if (!names) return undefined;
      throw new NotFoundError(`image ${image.record.id}: big data "${key}" is listed but ${path} is missing`, { cause: err });
    }
    throw describeFsError(err, `image ${image.record.id} big data ${path}`);
  }
}

/** The image's config blob: big data `sha256:<id>`, else the one its stored manifest names. */
export async function readImageConfig(image: Located<ImageRecord>, driver: StorageDriver): Promise<{ bytes: Buffer; key: string } | undefined> {
  const keys: string[] = [`sha256:${image.record.id}`];
  const manifest = await readImageBigData(image, driver, "manifest");
  if (manifest) {
    const configDigest = manifestConfigDigest(manifest, bigDataPath(image, driver, "manifest"));
    if (configDigest && !keys.includes(configDigest)) keys.push(configDigest);
  }
  for (const key of keys) {
    const bytes = await readImageBigData(image, driver, key);
    if (!bytes) continue;
    if (/^sha256:[0-9a-f]{64}$/.test(key) && sha256(bytes) !== key) {
      throw new CorruptInputError(`image ${image.record.id}: config ${bigDataPath(image, driver, key)} does not match its digest ${key}`);
    }
    return { bytes, key };
  }
  return undefined;
}

function manifestConfigDigest(bytes: Buffer, path: string): string | undefined {
  let m: unknown;
  try {
    m = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new CorruptInputError(`image manifest ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const digest = (m as { config?: { digest?: unknown } } | null)?.config?.digest;
  return typeof digest === "string" ? digest : undefined;
}

/** One history entry of an image config (OCI image spec). */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The keys of buildah.json this reader uses; the rest is buildah's own business. */
export interface BuildahState {
  ociv1?: Record<string, unknown>;
  image?: string;
  "image-id"?: string;
  "container-name"?: string;
  annotations?: Record<string, string> | null;
  "history-comment"?: string;
  "created-by"?: string;
  PrependedEmptyLayers?: HistoryEntry[] | null;
  AppendedEmptyLayers?: HistoryEntry[] | null;
}

export function buildahStatePath(graphRoot: string, driver: StorageDriver, containerId: string): string {
  return join(graphRoot, `${driver}-containers`, containerId, "userdata", "buildah.json");
}

/** A buildah working container's state; undefined for other containers (podman's have none). */
export async function readBuildahState(graphRoot: string, driver: StorageDriver, containerId: string): Promise<BuildahState | undefined> {
  const path = buildahStatePath(graphRoot, driver, containerId);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw describeFsError(err, `buildah state ${path}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CorruptInputError(`buildah state ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CorruptInputError(`buildah state ${path}: expected a JSON object`);
  }
  return parsed as BuildahState;
}
