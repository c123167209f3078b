// Manifests: media types, parsing/validation, conversion, platform choice, building.
export * from "./media-types.js";
export type * from "./manifest-types.js";
export { parseManifest, parseJsonObject, manifestMediaType, formatOfManifestType } from "./parse-manifest.js";
export { convertManifest, convertIndex, descriptorFor, manifestTypeFor, mapConfigMediaType } from "./convert-manifest.js";
export { chooseInstance, currentPlatform, goArch } from "./choose-instance.js";
export { buildImageManifest, serializeManifest, encodeManifest, type EncodedManifest } from "./build-manifest.js";
export { configDescriptor, layerDescriptors, instanceDescriptors, manifestAnnotations } from "./descriptors.js";
export { parseImageConfig, configWithDiffIds, type ImageConfig } from "./image-config.js";
