// Image names as containers/image parses them for containers-storage: (reference.ParseNormalizedNamed):
// "app" -> docker.io/library/app, a tag and/or a digest kept, nothing else guessed.
import { BadReferenceError } from "../../../src/errors.js";

/** A normalised docker name: `repository` = "docker.io/library/app"; `tag`/`digest` as given. */
export interface NormalizedName {
  repository: string;
  tag?: string;
  digest?: string;
}

const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** Parses `text` as a docker reference, normalised; `{ error }` says why when it is not one. */
export function parseNormalizedName(text: string): NormalizedName | { error: string } {
  if (/^[a-f0-9]{64}$/.test(text)) return { error: "a 64-hex-digit string is an image ID, not a name" };
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) return { error: `invalid digest ${JSON.stringify(digest)}` };
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) return { error: `invalid tag ${JSON.stringify(tag)}` };
  }
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  const isHost = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
  let domain = isHost ? first : "docker.io";
  let path = isHost ? rest.slice(slash + 1) : rest;
  if (domain === "index.docker.io") domain = "docker.io";
  if (domain === "docker.io" && !path.includes("/")) path = `library/${path}`;
  if (path !== path.toLowerCase()) return { error: "repository name must be lowercase" };
  if (!DOMAIN_RE.test(domain)) return { error: `invalid registry host ${JSON.stringify(domain)}` };
  if (!PATH_RE.test(path)) return { error: "invalid reference format" };
  const repository = `${domain}/${path}`;
  if (repository.length > 255) return { error: "repository name longer than 255 characters" };
  const name: NormalizedName = { repository };
  if (tag !== undefined) name.tag = tag;
  if (digest !== undefined) name.digest = digest;
  return name;
}

/** The name with ":latest" added when it has neither tag nor digest (reference.TagNameOnly). */
export function withDefaultTag(name: NormalizedName): NormalizedName {
  return name.tag === undefined && name.digest === undefined ? { ...name, tag: "latest" } : name;
}

/** "repo[:tag][@digest]" */
export function formatName(name: NormalizedName): string {
  return `${name.repository}${name.tag !== undefined ? `:${name.tag}` : ""}${name.digest !== undefined ? `@${name.digest}` : ""}`;
}

/** The repository a stored image name belongs to (normalised), or undefined when it does not parse. */
export function repositoryOf(storedName: string): string | undefined {
  const parsed = parseNormalizedName(storedName);
  return "error" in parsed ? undefined : parsed.repository;
}

/** Throws the one-line error for a name that did not parse. */
export function badName(text: string, why: string, shown: string): BadReferenceError {
  return new BadReferenceError(`invalid containers-storage reference ${JSON.stringify(shown)}: ${JSON.stringify(text)} is not an image name: ${why}`);
}
