// The host's own version, read from its package.json (two folders up from src/cli, three from
// dist/src/cli), for `imgcopy --version`.
import { readFileSync } from "node:fs";
import { IMGCOPY_API_VERSION } from "../api-version.js";

export function packageVersion(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "imgcopy" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not this level: try the next one
    }
  }
  return "unknown";
}

/** What `imgcopy --version` prints. */
export function versionText(): string {
  return `imgcopy version ${packageVersion()} (plugin API ${IMGCOPY_API_VERSION})`;
}
