// Which manifest type(s) the output may have: the source's when the destination takes it, else
// what the destination accepts (preferred first), or what --format forces.
import { UnsupportedError } from "../errors.js";
import { manifestTypeFor } from "../manifest/convert-manifest.js";
import type { ManifestFormat } from "../manifest/manifest-types.js";
import { DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST } from "../manifest/media-types.js";

const KIND_TYPES = { manifest: [OCI_MANIFEST, DOCKER_MANIFEST], index: [OCI_INDEX, DOCKER_LIST] };

/** Output types to try, in order; UnsupportedError when none can work. */
export function outputTypeCandidates(
  srcType: string,
  kind: "manifest" | "index",
  destSupported: readonly string[],
  forced: ManifestFormat | undefined,
  destName: string,
): string[] {
  const accepted = destSupported.join(", ");
  if (kind === "index" && destSupported.length > 0 && !destSupported.some((t) => KIND_TYPES.index.includes(t))) {
    throw new UnsupportedError(`${destName} cannot store an image index or manifest list (it accepts ${accepted}); copy one image, without --all`);
  }
  if (forced) {
    const type = manifestTypeFor(forced, kind);
    if (destSupported.length > 0 && !destSupported.includes(type)) {
      throw new UnsupportedError(`${destName} does not accept ${type} (it accepts ${accepted}); choose another --format`);
    }
    return [type];
  }
  if (destSupported.length === 0 || destSupported.includes(srcType)) return [srcType];
  const convertible = destSupported.filter((t) => KIND_TYPES[kind].includes(t));
  if (convertible.length === 0) {
    throw new UnsupportedError(`${destName} does not accept ${srcType} and imgcopy cannot convert it to what it accepts (${accepted})`);
  }
  return convertible;
}
