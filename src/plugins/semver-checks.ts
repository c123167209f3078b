// The semver questions plugin manifests raise (is this a version, a range; does the host's API
// version satisfy the range), answered here for the plain forms every plugin.json uses ("1.2.0",
// "^1.0.0") and by the semver package for everything else. semver costs some 15-20 ms to load and
// parse a range on each start-up; it is loaded only when a manifest spells something else.
import { createRequire } from "node:module";

type Satisfies = typeof import("semver/functions/satisfies.js");
type ValidVersion = typeof import("semver/functions/valid.js");
type ValidRange = typeof import("semver/ranges/valid.js");

const require = createRequire(import.meta.url);
const NUMBER = "(0|[1-9]\\d*)";
/** A release version without prerelease or build parts: what semver.valid keeps unchanged. */
const PLAIN_VERSION = new RegExp(`^${NUMBER}\\.${NUMBER}\\.${NUMBER}$`);
/** A caret range on a plain version of major 1 or more: the same major, not below the version. */
const PLAIN_CARET = new RegExp(`^\\^([1-9]\\d*)\\.${NUMBER}\\.${NUMBER}$`);

/** semver.valid(version) !== null. */
export function isSemverVersion(version: string): boolean {
  if (PLAIN_VERSION.test(version)) return true;
  return (require("semver/functions/valid.js") as ValidVersion)(version) !== null;
}

/** semver.validRange(range) !== null. */
export function isSemverRange(range: string): boolean {
  if (PLAIN_CARET.test(range)) return true;
  return (require("semver/ranges/valid.js") as ValidRange)(range) !== null;
}

/** semver.satisfies(version, range, { includePrerelease: false }). */
export function satisfiesRange(version: string, range: string): boolean {
  const v = PLAIN_VERSION.exec(version);
  const r = PLAIN_CARET.exec(range);
  if (v && r) {
    const [have, want] = [v.slice(1, 4).map(Number), r.slice(1, 4).map(Number)];
    if (have[0] !== want[0]) return false;
    return have[1]! > want[1]! || (have[1] === want[1] && have[2]! >= want[2]!);
  }
  return (require("semver/functions/satisfies.js") as Satisfies)(version, range, { includePrerelease: false });
}
