// Which compression a blob uses, from its first bytes.

export type DetectedCompression = "none" | "gzip" | "zstd" | "bzip2" | "xz";

const MAGIC: Array<[DetectedCompression, number[]]> = [
  ["gzip", [0x1f, 0x8b]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
];

/** Bytes needed to recognise every format. */
export const MAGIC_LENGTH = 6;

export function detectCompression(head: Uint8Array): DetectedCompression {
  for (const [kind, magic] of MAGIC) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return kind;
  }
  return "none";
}
