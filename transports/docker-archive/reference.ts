// docker-archive:PATH[:NAME:TAG | :@INDEX] — PATH ends at the first ":" (containers-transports(5)).
import { BadReferenceError } from "../../src/errors.js";
import type { ImageDestination, ImageReference, ImageSource, ImageTransport, SystemContext } from "../../src/types.js";
import { DockerArchiveDestination } from "./destination.js";
import { formatNamedTagged, parseNamedTagged, type NamedTagged } from "./docker-reference.js";
import { DockerArchiveSource } from "./source.js";

export class DockerArchiveReference implements ImageReference {
  constructor(
    readonly transport: ImageTransport,
    /** The archive file (or a pipe / device such as /dev/stdout). */
    readonly path: string,
    /** NAME:TAG: the image to pick from the archive, or the tag to write. */
    readonly named: NamedTagged | undefined,
    /** @N: the Nth image of manifest.json (sources only). */
    readonly sourceIndex: number | undefined,
  ) {}

  /** "docker-archive:PATH": how errors about the archive file name it. */
  get archiveLabel(): string {
    return `${this.transport.name}:${this.path}`;
  }

  toString(): string {
    return `${this.transport.name}:${this.stringWithinTransport()}`;
  }

  /** The text after "docker-archive:". */
  stringWithinTransport(): string {
    if (this.named) return `${this.path}:${formatNamedTagged(this.named)}`;
    if (this.sourceIndex !== undefined) return `${this.path}:@${this.sourceIndex}`;
    return this.path;
  }

  newImageSource(ctx: SystemContext): Promise<ImageSource> {
    return DockerArchiveSource.open(this, ctx);
  }

  newImageDestination(ctx: SystemContext): Promise<ImageDestination> {
    if (this.sourceIndex !== undefined) {
      return Promise.reject(
        new BadReferenceError(`${this.toString()}: a destination cannot use @${this.sourceIndex}; name it with :NAME:TAG or nothing`),
      );
    }
    return DockerArchiveDestination.open(this, ctx);
  }
}

/** Parses the text after "docker-archive:". */
export function parseDockerArchiveReference(transport: ImageTransport, rest: string): DockerArchiveReference {
  const shown = `${transport.name}:${rest}`;
  const colon = rest.indexOf(":");
  const path = colon < 0 ? rest : rest.slice(0, colon);
  if (path === "") {
    throw new BadReferenceError(`invalid reference ${JSON.stringify(shown)}: expected ${transport.name}:PATH[:NAME:TAG | :@INDEX]`);
  }
  if (colon < 0) return new DockerArchiveReference(transport, path, undefined, undefined);
  const spec = rest.slice(colon + 1);
  if (spec.startsWith("@")) {
    const digits = spec.slice(1);
    const index = Number(digits);
    if (!/^[0-9]+$/.test(digits) || !Number.isSafeInteger(index)) {
      throw new BadReferenceError(`invalid reference ${JSON.stringify(shown)}: @${digits} is not an image index (@0, @1, ...)`);
    }
    return new DockerArchiveReference(transport, path, undefined, index);
  }
  const named = parseNamedTagged(spec, `${shown}: image name`);
  return new DockerArchiveReference(transport, path, named, undefined);
}
