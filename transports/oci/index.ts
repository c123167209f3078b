// The oci transport: OCI image layout directories (oci:PATH[:REF], and oci:PATH:@N for reading).
import { ociTransport } from "./reference.js";

export { OciReference, parseOciReference } from "./reference.js";
export { OciLayoutSource } from "./source.js";
export default ociTransport;
