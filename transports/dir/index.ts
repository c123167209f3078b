// The dir transport: a directory of blobs, a manifest and signatures (dir:PATH), as skopeo writes it.
import { dirTransport } from "./reference.js";

export { DirReference, parseDirReference } from "./reference.js";
export { DirImageSource } from "./source.js";
export { DirImageDestination } from "./destination.js";
export default dirTransport;
