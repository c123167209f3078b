// The copy engine's public face.
export { copyImage } from "./copy-image.js";
export type { CopyOptions, CopyResult } from "./copy-options.js";
