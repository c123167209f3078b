// Which destinations take --dest-compress / --dest-decompress: as skopeo 1.9.3 decides, only one
// that keeps layers as they are (dir:, and oci: with --dest-oci-accept-uncompressed-layers); a
// destination with its own rule (docker-archive: uncompressed, oci: compressed) keeps it, and the
// user is told that the flag was ignored.
import type { ImageDestination } from "../types.js";
import type { ResolvedCopyOptions } from "./copy-options.js";

export function optionsForDestination(
  options: ResolvedCopyOptions,
  dest: ImageDestination,
  destName: string,
  warn: (message: string) => void,
): ResolvedCopyOptions {
  const own = dest.desiredLayerCompression();
  if (own === "preserve") return options;
  const flags: string[] = [];
  if (options.userWish !== undefined && options.userWish !== own) flags.push(`--dest-${options.userWish}`);
  if (own === "decompress" && options.explicitAlgorithm) flags.push("--dest-compress-format");
  if (own === "decompress" && options.level !== undefined) flags.push("--dest-compress-level");
  if (flags.length > 0) {
    const rule =
      own === "decompress"
        ? "always stores layers uncompressed (as skopeo does)"
        : "always stores layers compressed (as skopeo does; --dest-oci-accept-uncompressed-layers keeps uncompressed ones)";
    warn(`${flags.join(", ")} ignored: ${destName} ${rule}`);
  }
  return { ...options, userWish: undefined };
}
