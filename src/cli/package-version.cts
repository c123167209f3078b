// The host's own version, read from its package.json (two folders up from src/cli, three from
// dist/src/cli), for `imgcopy --version`. CommonJS, like main.cts: the bin answers --version without
// starting Node's ES module loader.
import fs = require("node:fs");
import path = require("node:path");
import apiVersion = require("../api-version.cjs");

function readPackageVersion(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, rel), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "imgcopy" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not this level: try the next one
    }
  }
  return "unknown";
}

/** What `imgcopy --version` prints. */
function versionText(): string {
  return `imgcopy version ${readPackageVersion()} (plugin API ${apiVersion.IMGCOPY_API_VERSION})`;
}

export = { versionText };
