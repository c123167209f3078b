// Where a layer's files are: vfs keeps the whole tree in <root>/vfs/dir/<id>, overlay keeps only
// the layer's changes in <root>/overlay/<id>/diff. A lower layer may live in another store root
// (an additional image store), so lowers are looked up in every root the store knows.
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { describeFsError, NotFoundError } from "../../../src/errors.js";
import type { StorageDriver, StoreLocation } from "../store/record-types.js";

/** The directory holding a layer's files under one store root. */
export function layerDirUnder(root: string, driver: StorageDriver, id: string): string {
  return driver === "vfs" ? join(root, "vfs", "dir", id) : join(root, "overlay", id, "diff");
}

export function tarSplitPath(root: string, driver: StorageDriver, id: string): string {
  return join(root, `${driver}-layers`, `${id}.tar-split.gz`);
}

/** Store roots to search for a layer, first the one that holds the layer being exported. */
export function candidateRoots(location: StoreLocation, layerStoreRoot: string): string[] {
  return [...new Set([layerStoreRoot, location.graphRoot, ...location.additionalImageStores])];
}

/** Throws NotFoundError naming the layer and path unless `dir` is a directory. */
export async function requireLayerDir(dir: string, layerId: string): Promise<void> {
  try {
    const st = await lstat(dir);
    if (!st.isDirectory()) throw new NotFoundError(`layer ${layerId}: ${dir} is not a directory`);
  } catch (err) {
    throw describeFsError(err, `layer ${layerId}: ${dir}`);
  }
}

/** The first root where the layer's directory exists; NotFoundError naming every place tried. */
export async function findLayerDir(roots: readonly string[], driver: StorageDriver, id: string): Promise<string> {
  const tried: string[] = [];
  for (const root of roots) {
    const dir = layerDirUnder(root, driver, id);
    try {
      if ((await lstat(dir)).isDirectory()) return dir;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw describeFsError(err, `layer ${id}: ${dir}`);
    }
    tried.push(dir);
  }
  throw new NotFoundError(`layer ${id}: its files are missing (looked in ${tried.join(", ")})`);
}

/** True when `path` exists (ENOENT/ENOTDIR: false; other errors are thrown, naming it). */
export async function pathExists(path: string, what: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw describeFsError(err, `${what}: ${path}`);
  }
}
