// The docker-archive transport: `docker save` / `docker load` tar archives, read and written.
import type { ImageTransport } from "../../src/types.js";
import { parseDockerArchiveReference, type DockerArchiveReference } from "./reference.js";

export interface DockerArchiveTransport extends ImageTransport {
  parseReference(rest: string): DockerArchiveReference;
}

const dockerArchiveTransport: DockerArchiveTransport = {
  name: "docker-archive",
  parseReference(rest: string): DockerArchiveReference {
    return parseDockerArchiveReference(dockerArchiveTransport, rest);
  },
};

export default dockerArchiveTransport;
export { DockerArchiveReference } from "./reference.js";
export { DockerArchiveSource } from "./source.js";
export { DockerArchiveDestination } from "./destination.js";
