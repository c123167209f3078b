// Docker image names ("x:1" -> docker.io/library/x:1), normalised the way docker and
// containers/image do it, for the RepoTags of a docker-archive.
import { BadReferenceError } from "../../src/errors.js";

/** A fully qualified, tagged docker name: `name` = "docker.io/library/x", `tag` = "1". */
export interface NamedTagged {
  readonly name: string;
  readonly tag: string;
}

const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_REPO_PREFIX = "library/";
const MAX_NAME_LENGTH = 255;

const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64_RE = /^[a-f0-9]{64}$/;

/** "docker.io/library/x:1". */
export function formatNamedTagged(ref: NamedTagged): string {
  return `${ref.name}:${ref.tag}`;
}

/**
 * Parses a docker reference as users type it, normalised (docker.io/library/ added), with
 * "latest" when no tag is given. Digests are refused: `what` names the text in errors.
 */
export function parseNamedTagged(text: string, what = "docker reference"): NamedTagged {
  const bad = (why: string): BadReferenceError =>
    new BadReferenceError(`${what} ${JSON.stringify(text)} is not valid: ${why}`);
  if (text === "") throw bad("empty name");
  if (HEX64_RE.test(text)) throw bad("a 64-hex-digit string is an image ID, not a name");
  let rest = text;
  const at = rest.indexOf("@");
  if (at >= 0) {
    if (DIGEST_RE.test(rest.slice(at + 1))) throw bad("a digest is not allowed here, use NAME:TAG");
    throw bad("invalid digest");
  }
  const { domain, remainder } = splitDomain(rest);
  rest = remainder;
  let tag = "latest";
  const colon = rest.lastIndexOf(":");
  if (colon >= 0 && !rest.slice(colon).includes("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(`invalid tag ${JSON.stringify(tag)}`);
  }
  if (rest !== rest.toLowerCase()) throw bad("repository name must be lowercase");
  if (!DOMAIN_RE.test(domain)) throw bad(`invalid registry host ${JSON.stringify(domain)}`);
  if (!PATH_RE.test(rest)) throw bad("invalid repository name (lowercase letters, digits and . _ - / separators)");
  const name = `${domain}/${rest}`;
  if (name.length > MAX_NAME_LENGTH) throw bad(`name longer than ${MAX_NAME_LENGTH} characters`);
  return { name, tag };
}

/** Splits "host[:port]/path" from "path", the way docker decides whether the first part is a host. */
function splitDomain(text: string): { domain: string; remainder: string } {
  const slash = text.indexOf("/");
  const first = slash >= 0 ? text.slice(0, slash) : "";
  let domain: string;
  let remainder: string;
  const looksLikeHost = first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase();
  if (slash < 0 || !looksLikeHost) {
    domain = DEFAULT_DOMAIN;
    remainder = text;
  } else {
    domain = first;
    remainder = text.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}
