// A repository's tags (GET /v2/REPO/tags/list), following the Link header from page to page.
import { CorruptInputError } from "../../src/errors.js";
import type { ListedItem, RepositoryTags, SystemContext } from "../../src/types.js";
import { connectEndpoint, endpointsFor, pullScope } from "./endpoints.js";
import { parseRepositoryLocation } from "./reference.js";
import { readCapped, type RegistryClient } from "./registry-client.js";

const PAGE_SIZE = 1000;
const MAX_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_PAGES = 10_000;

/** The tags of the repository `location` names ("//HOST/REPO", a tag or digest there is an error). */
export async function listRepositoryTags(location: string, ctx: SystemContext, pageSize = PAGE_SIZE): Promise<RepositoryTags> {
  const ref = parseRepositoryLocation(location);
  // Messages name the repository as given: it has no tag (the parsed reference's default "latest" is not the user's).
  const repository = `docker://${ref.name}`;
  const [endpoint] = (await endpointsFor(ref, ctx, true, repository)).slice(-1);
  const client = await connectEndpoint(ref, endpoint!, ctx, repository);
  try {
    return { Repository: ref.name, Tags: await fetchTags(client, endpoint!.repository, `${repository}: tags`, ctx.signal, pageSize) };
  } finally {
    await client.close();
  }
}

/** Every page of GET /v2/REPO/tags/list. */
export async function fetchTags(client: RegistryClient, repository: string, what: string, signal?: AbortSignal, pageSize = PAGE_SIZE): Promise<string[]> {
  const tags: string[] = [];
  let next: URL | undefined = client.resolve(`/v2/${repository}/tags/list?n=${pageSize}`);
  const read = new Set<string>();
  for (let page = 0; next && page < MAX_PAGES; page++) {
    if (read.has(next.href)) throw new CorruptInputError(`${what}: the registry's Link header leads back to a page already read (${next.href})`);
    read.add(next.href);
    const res = await client.send({ method: "GET", url: next, scopes: [pullScope(repository)], expect: [200], what, signal });
    const text = await readCapped(res.body, MAX_PAGE_BYTES);
    let parsed: { tags?: unknown };
    try {
      parsed = JSON.parse(text) as { tags?: unknown };
    } catch (err) {
      throw new CorruptInputError(`${what}: the registry's answer is not JSON (${(err as Error).message})`);
    }
    if (Array.isArray(parsed.tags)) tags.push(...parsed.tags.filter((t): t is string => typeof t === "string"));
    next = nextPage(res.headers.link, next);
  }
  return tags;
}

/** The URL of `Link: <URL>; rel="next"`, resolved against the page it came with. */
export function nextPage(link: string | string[] | undefined, current: URL): URL | undefined {
  const values = Array.isArray(link) ? link : link ? [link] : [];
  for (const value of values) {
    for (const part of value.split(",")) {
      const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
      if (m && /rel="?next"?/.test(m[2] ?? "")) return new URL(m[1] ?? "", current);
    }
  }
  return undefined;
}

/** `imgcopy list docker://HOST/REPO`: one item per tag. */
export async function listRepository(location: string, ctx: SystemContext): Promise<ListedItem[]> {
  const { Repository, Tags } = await listRepositoryTags(location, ctx);
  return Tags.map((tag) => ({ kind: "image", id: "", names: [`${Repository}:${tag}`] }));
}
