// dir:PATH — a directory holding manifest.json, one file per blob and signatures (skopeo's dir: layout).
import { resolve } from "node:path";
import { BadReferenceError } from "../../src/errors.js";
import type { ImageDestination, ImageReference, ImageSource, ImageTransport, SystemContext } from "../../src/types.js";
import { DirImageDestination } from "./destination.js";
import { DirImageSource } from "./source.js";

export class DirReference implements ImageReference {
  readonly transport: ImageTransport = dirTransport;
  /** The directory, absolute. */
  readonly resolvedPath: string;

  /** `path` is kept as typed, so that toString() gives it back. */
  constructor(readonly path: string) {
    this.resolvedPath = resolve(path);
  }

  toString(): string {
    return `dir:${this.path}`;
  }

  newImageSource(ctx: SystemContext): Promise<ImageSource> {
    return DirImageSource.open(this, ctx);
  }

  newImageDestination(ctx: SystemContext): Promise<ImageDestination> {
    return DirImageDestination.open(this, ctx);
  }
}

/** Parses the text after "dir:": the whole of it is the path. */
export function parseDirReference(rest: string): DirReference {
  if (rest === "") throw new BadReferenceError(`invalid dir reference "dir:": the directory PATH is empty (expected dir:PATH)`);
  if (rest.includes("\0")) throw new BadReferenceError(`invalid dir reference ${JSON.stringify(`dir:${rest}`)}: the path contains a NUL byte`);
  return new DirReference(rest);
}

export const dirTransport: ImageTransport = {
  name: "dir",
  parseReference: parseDirReference,
};
