// Plain aligned columns, as podman and skopeo print listings.

/** Rows under a header, each column padded to its widest cell, separated by spaces. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], gap = 3): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + gap)))
      .join("")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}
