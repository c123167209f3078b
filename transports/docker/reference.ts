// docker://[HOST[:PORT]/]REPO[:TAG|@DIGEST] — an image in a registry, normalised as containers/image does.
import { BadReferenceError } from "../../src/errors.js";
import type { ImageDestination, ImageReference, ImageSource, ImageTransport, SystemContext } from "../../src/types.js";

/** The Docker Hub name a reference shows, and the host its requests go to. */
export const DOCKER_HUB = "docker.io";
export const DOCKER_HUB_ENDPOINT = "registry-1.docker.io";
const DEFAULT_TAG = "latest";
const MAX_NAME_LENGTH = 255;

// The distribution reference grammar (distribution/reference/regexp.go), written from its spec.
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const REPOSITORY_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

export class DockerReference implements ImageReference {
  readonly transport: ImageTransport = dockerTransport;

  constructor(
    /** HOST[:PORT] as the user names it, normalised ("docker.io" for Docker Hub). */
    readonly registry: string,
    /** The repository path in the registry ("library/busybox"). */
    readonly repository: string,
    /** The tag; undefined when the reference names a digest. */
    readonly tag: string | undefined,
    readonly digest: string | undefined,
  ) {}

  /** HOST[:PORT]/REPO, the name registries.conf and auth files match on. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** What the manifest is requested and pushed by: the tag or the digest. */
  get manifestReference(): string {
    return this.digest ?? this.tag ?? DEFAULT_TAG;
  }

  toString(): string {
    return `docker://${this.name}${this.digest ? `@${this.digest}` : `:${this.tag ?? DEFAULT_TAG}`}`;
  }

  async newImageSource(ctx: SystemContext): Promise<ImageSource> {
    const { DockerImageSource } = await import("./source.js");
    return DockerImageSource.open(this, ctx);
  }

  async newImageDestination(ctx: SystemContext): Promise<ImageDestination> {
    const { DockerImageDestination } = await import("./destination.js");
    return DockerImageDestination.open(this, ctx);
  }
}

/** The host requests for `registry` go to (Docker Hub's API lives on another name). */
export function registryEndpointHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_ENDPOINT : registry;
}

/** Splits HOST[:PORT]/REPO into registry and repository with Docker Hub defaults; `what` names the text in errors. */
export function splitRepositoryName(name: string, what: string): { registry: string; repository: string } {
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  const isDomain = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
  let registry = isDomain ? first : DOCKER_HUB;
  let repository = isDomain ? name.slice(slash + 1) : name;
  if (registry === "index.docker.io") registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (isDomain && !DOMAIN_RE.test(registry)) {
    throw new BadReferenceError(`invalid docker reference ${what}: "${registry}" is not a valid registry host[:port]`);
  }
  if (!REPOSITORY_RE.test(repository)) {
    const hint = repository !== repository.toLowerCase() ? " (repository names must be lowercase)" : "";
    throw new BadReferenceError(
      `invalid docker reference ${what}: "${repository}" is not a valid repository name${hint}: lowercase a-z0-9 parts separated by "/", joined within by ".", "_", "__" or "-"`,
    );
  }
  if (`${registry}/${repository}`.length > MAX_NAME_LENGTH) {
    throw new BadReferenceError(`invalid docker reference ${what}: the name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  return { registry, repository };
}

/** Parses the text after "docker:" ("//HOST/REPO:TAG"; the leading "//" is what containers/image requires, and we accept it missing). */
export function parseDockerReference(rest: string): DockerReference {
  const what = JSON.stringify(`docker:${rest}`);
  const text = rest.startsWith("//") ? rest.slice(2) : rest;
  if (text === "") throw new BadReferenceError(`invalid docker reference ${what}: expected docker://[HOST[:PORT]/]REPO[:TAG|@DIGEST]`);
  let name = text;
  let digest: string | undefined;
  const at = name.indexOf("@");
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new BadReferenceError(`invalid docker reference ${what}: "${digest}" is not a valid digest (ALGORITHM:HEX)`);
    if (!digest.startsWith("sha256:") || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
      throw new BadReferenceError(`invalid docker reference ${what}: only sha256 digests (sha256:<64 lowercase hex>) are supported, not "${digest}"`);
    }
  }
  let tag: string | undefined;
  const colon = name.lastIndexOf(":");
  if (colon > name.lastIndexOf("/")) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG_RE.test(tag)) {
      throw new BadReferenceError(`invalid docker reference ${what}: "${tag}" is not a valid tag (A-Za-z0-9_ then up to 127 of A-Za-z0-9_.-)`);
    }
  }
  if (tag !== undefined && digest !== undefined) {
    throw new BadReferenceError(`invalid docker reference ${what}: it names both a tag and a digest; use one of :TAG or @DIGEST`);
  }
  const { registry, repository } = splitRepositoryName(name, what);
  return new DockerReference(registry, repository, digest === undefined ? (tag ?? DEFAULT_TAG) : undefined, digest);
}

/** Parses "//HOST/REPO" (list-tags, list): a repository, with no tag or digest. */
export function parseRepositoryLocation(rest: string): DockerReference {
  const text = rest.startsWith("//") ? rest.slice(2) : rest;
  const lastPart = text.slice(text.lastIndexOf("/") + 1);
  if (text.includes("@") || (lastPart.includes(":") && text.includes("/"))) {
    throw new BadReferenceError(`invalid repository ${JSON.stringify(`docker:${rest}`)}: expected docker://[HOST[:PORT]/]REPO, without a tag or digest`);
  }
  return parseDockerReference(rest);
}

export const dockerTransport: ImageTransport = {
  name: "docker",
  parseReference: parseDockerReference,
  list: async (location, ctx) => (await import("./tags-list.js")).listRepository(location, ctx),
  listTags: async (location, ctx) => (await import("./tags-list.js")).listRepositoryTags(location, ctx),
  // imgcopy login/logout; loaded only when those verbs run.
  logins: {
    login: async (host, credentials, ctx) => (await import("./auth/login.js")).dockerLogins.login(host, credentials, ctx),
    logout: async (host, ctx) => (await import("./auth/login.js")).dockerLogins.logout(host, ctx),
    storedUser: async (host, ctx) => (await import("./auth/login.js")).dockerLogins.storedUser(host, ctx),
  },
};
