// Media types of the OCI image spec and Docker image manifest v2 schema 2.

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
export const OCI_LAYER_NONDIST_TAR = "application/vnd.oci.image.layer.nondistributable.v1.tar";
export const OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
export const OCI_LAYER_NONDIST_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
export const DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";
export const DOCKER_FOREIGN_LAYER_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
export const DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";
export const DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json";

/** The annotation that names an image in an OCI index (oci:PATH:REF). */
export const ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name";

export function isIndexType(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_LIST;
}

/** Docker's uncompressed foreign layer (containers/image knows it; docker itself writes the gzip one). */
export const DOCKER_FOREIGN_LAYER_TAR = "application/vnd.docker.image.rootfs.foreign.diff.tar";
/** The OCI 1.1 empty descriptor's media type (artifacts use it for a config of "{}"). */
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";

/** A single-image manifest type imgcopy reads and writes (OCI or Docker v2s2). */
export function isImageManifestType(mediaType: string): boolean {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}

/** An image config type (as opposed to an artifact's config). */
export function isImageConfigType(mediaType: string): boolean {
  return mediaType === OCI_CONFIG || mediaType === DOCKER_CONFIG;
}

export function isSchema1Type(mediaType: string): boolean {
  return mediaType === DOCKER_SCHEMA1 || mediaType === DOCKER_SCHEMA1_SIGNED;
}
