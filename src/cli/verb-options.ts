// The flags of inspect, list, list-tags, login, logout and transports, as data: the command table,
// the parser and the quick path read them without importing the commands that act on them.
import type { Options } from "yargs";
import { REGISTRY_OPTIONS } from "./commands/registry-options.js";

export const INSPECT_OPTIONS = {
  raw: { type: "boolean", default: false, describe: "print the manifest (or with --config, the config) as stored" },
  config: { type: "boolean", default: false, describe: "print the image's config" },
  // skopeo's spelling: docker:// lists the repository's tags as RepoTags unless told not to; local transports have none.
  "no-tags": { alias: "n", type: "boolean", describe: "docker://: do not list the repository's tags (RepoTags stays empty)" },
  // yargs reads "--no-tags" as the negation of "tags": declared (hidden) so that strict mode accepts it.
  tags: { type: "boolean", hidden: true },
  ...REGISTRY_OPTIONS,
} as const satisfies Record<string, Options>;

export const LIST_OPTIONS = {
  json: { type: "boolean", default: false, describe: "print JSON" },
  ...REGISTRY_OPTIONS,
} as const satisfies Record<string, Options>;

export const LIST_TAGS_OPTIONS = { ...REGISTRY_OPTIONS } as const satisfies Record<string, Options>;

/** The flags login and logout share: where the auth file is and how to reach the registry. */
export const LOGIN_TARGET_OPTIONS = {
  authfile: { type: "string", describe: "auth file to write (default: REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json)" },
} as const satisfies Record<string, Options>;

export const LOGIN_OPTIONS = {
  username: { alias: "u", type: "string", describe: "the user to log in as" },
  password: { alias: "p", type: "string", describe: "the password (visible to other users in ps: prefer --password-stdin)" },
  "password-stdin": { type: "boolean", default: false, describe: "read the password from standard input" },
  ...LOGIN_TARGET_OPTIONS,
  "tls-verify": { type: "boolean", describe: "require HTTPS and verify certificates (false: skip verification, allow plain HTTP)" },
  "cert-dir": { type: "string", describe: "directory of *.crt CAs and *.cert/*.key client pairs for the registry" },
  "get-login": { type: "boolean", default: false, describe: "print the user logged in to the registry, and log in no one" },
} as const satisfies Record<string, Options>;

export const LOGOUT_OPTIONS = {
  all: { alias: "a", type: "boolean", default: false, describe: "remove the credentials of every registry" },
  ...LOGIN_TARGET_OPTIONS,
} as const satisfies Record<string, Options>;

export const TRANSPORTS_OPTIONS = {
  json: { type: "boolean", default: false, describe: "print JSON" },
} as const satisfies Record<string, Options>;
