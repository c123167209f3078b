// The docker transport: images in registries (docker://[HOST[:PORT]/]REPO[:TAG|@DIGEST]), source and destination.
import { dockerTransport } from "./reference.js";

export { DockerReference, parseDockerReference, parseRepositoryLocation } from "./reference.js";
export { listRepositoryTags } from "./tags-list.js";
export default dockerTransport;
