// The plain-form answers of semver-checks.ts agree with the semver package on every version and
// range tried, including the forms it hands over to semver.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import satisfies from "semver/functions/satisfies.js";
import validVersion from "semver/functions/valid.js";
import validRange from "semver/ranges/valid.js";
import { isSemverRange, isSemverVersion, satisfiesRange } from "../../src/plugins/semver-checks.js";

const VERSIONS = ["0.0.0", "0.1.0", "0.9.9", "1.0.0", "1.0.1", "1.2.0", "1.10.3", "2.0.0", "2.0.0-rc.1", "10.0.0", "1.0", "01.0.0", "v1.0.0", "1.0.0+b", "x"];
const RANGES = [
  "^1.0.0", "^1.2.0", "^1.2.3", "^1.10.0", "^2.0.0", "^10.0.0", "^0.1.0", "^0.0.1", "^1", "^1.x", ">=1.0.0", "~1.2.0", "1.x || 2.x",
  "*", "^1.0.0-rc.0", ">=2.0.0-rc.0", "^01.0.0", "not a range", "",
];

describe("semver checks", () => {
  it("isSemverVersion agrees with semver.valid", () => {
    for (const v of VERSIONS) assert.equal(isSemverVersion(v), validVersion(v) !== null, v);
  });
  it("isSemverRange agrees with semver.validRange", () => {
    for (const r of RANGES) assert.equal(isSemverRange(r), validRange(r) !== null, r);
  });
  it("satisfiesRange agrees with semver.satisfies (no prereleases)", () => {
    for (const v of VERSIONS.filter((x) => validVersion(x) !== null)) {
      for (const r of RANGES.filter((x) => validRange(x) !== null)) {
        assert.equal(satisfiesRange(v, r), satisfies(v, r, { includePrerelease: false }), `${v} in ${r}`);
      }
    }
  });
});
