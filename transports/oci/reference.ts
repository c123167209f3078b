// oci:PATH[:REF | :@N] — an OCI image layout directory and, optionally, which image in it.
import { resolve } from "node:path";
import { BadReferenceError } from "../../src/errors.js";
import type { ImageDestination, ImageReference, ImageSource, ImageTransport, SystemContext } from "../../src/types.js";
import { OciLayoutSource } from "./source.js";

// The grammar of org.opencontainers.image.ref.name (OCI image-spec, annotations.md).
const REF_COMPONENT = "[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*";
const REF_RE = new RegExp(`^${REF_COMPONENT}(?:/${REF_COMPONENT})*$`);
const SOURCE_INDEX_RE = /^@(0|[1-9][0-9]{0,8})$/;

export class OciReference implements ImageReference {
  readonly transport: ImageTransport = ociTransport;
  /** The layout directory, absolute. */
  readonly resolvedPath: string;

  constructor(
    /** PATH as typed (printed back by toString). */
    readonly path: string,
    /** REF: the org.opencontainers.image.ref.name to set (destination) or match (source). */
    readonly refName: string | undefined,
    /** @N: a zero-based position in index.json (sources only). */
    readonly sourceIndex: number | undefined,
  ) {
    this.resolvedPath = resolve(path);
  }

  toString(): string {
    if (this.sourceIndex !== undefined) return `oci:${this.path}:@${this.sourceIndex}`;
    return this.refName === undefined ? `oci:${this.path}` : `oci:${this.path}:${this.refName}`;
  }

  newImageSource(ctx: SystemContext): Promise<ImageSource> {
    return OciLayoutSource.open(this, ctx);
  }

  async newImageDestination(ctx: SystemContext): Promise<ImageDestination> {
    if (this.sourceIndex !== undefined) {
      throw new BadReferenceError(`${this.toString()}: @${this.sourceIndex} selects an image to read; a destination takes oci:PATH[:REF]`);
    }
    // Imported here: the writer's code (locks, compression, blob writer) is not loaded by inspect or a read.
    const { OciLayoutDestination } = await import("./destination.js");
    return OciLayoutDestination.open(this, ctx);
  }
}

/** Parses the text after "oci:". PATH ends at the first ":"; the rest is REF or @N. */
export function parseOciReference(rest: string): OciReference {
  const colon = rest.indexOf(":");
  const path = colon < 0 ? rest : rest.slice(0, colon);
  const tail = colon < 0 ? "" : rest.slice(colon + 1);
  if (path === "") {
    throw new BadReferenceError(`invalid oci reference "oci:${rest}": the layout directory PATH is empty (expected oci:PATH[:REF])`);
  }
  if (path.includes("\0")) throw new BadReferenceError(`invalid oci reference ${JSON.stringify(`oci:${rest}`)}: the path contains a NUL byte`);
  if (tail === "") return new OciReference(path, undefined, undefined);
  if (tail.startsWith("@")) {
    const m = SOURCE_INDEX_RE.exec(tail);
    if (!m) throw new BadReferenceError(`invalid oci reference "oci:${rest}": "${tail}" is not @N with N a non-negative integer`);
    return new OciReference(path, undefined, Number(m[1]));
  }
  if (!REF_RE.test(tail)) {
    throw new BadReferenceError(
      `invalid oci reference "oci:${rest}": REF "${tail}" may use only A-Za-z0-9 joined by one of - . _ : @ + or "--", in "/"-separated parts`,
    );
  }
  return new OciReference(path, tail, undefined);
}

export const ociTransport: ImageTransport = {
  name: "oci",
  parseReference: parseOciReference,
};
