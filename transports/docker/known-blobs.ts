// Which repositories of a registry this process has seen holding a blob (read by a docker:// source):
// a push to another repository of the same registry can then mount it instead of uploading it.
const seen = new Map<string, Set<string>>();

function key(host: string, digest: string): string {
  return `${host}\u0000${digest}`;
}

export function noteBlobLocation(host: string, repository: string, digest: string): void {
  const k = key(host, digest);
  let repos = seen.get(k);
  if (!repos) seen.set(k, (repos = new Set()));
  repos.add(repository);
}

/** Repositories of `host` other than `except` known to hold `digest`. */
export function knownBlobLocations(host: string, digest: string, except: string): string[] {
  return [...(seen.get(key(host, digest)) ?? [])].filter((r) => r !== except);
}
