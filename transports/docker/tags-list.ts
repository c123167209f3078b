// A repository's tags (GET /v2/REPO/tags/list), following the Link header from page to page.
import { CorruptInputError } from "../../src/errors.js";
import type { ListedItem, SystemContext } from "../../src/types.js";
import { connectEndpoint, endpointsFor, pullScope } from "./endpoints.js";
import { parseRepositoryLocation } from "./reference.js";
import { readCapped } from "./registry-client.js";

const PAGE_SIZE = 1000;
const MAX_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_PAGES = 10_000;

export interface RepositoryTags {
  /** HOST[:PORT]/REPO, as skopeo list-tags prints it. */
  Repository: string;
  Tags: string[];
}

/** The tags of the repository `location` names ("//HOST/REPO", a tag or digest there is an error). */
export async function listRepositoryTags(location: string, ctx: SystemContext): Promise<RepositoryTags> {
  const ref = parseRepositoryLocation(location);
  const [endpoint] = (await endpointsFor(ref, ctx, true)).slice(-1);
  const client = await connectEndpoint(ref, endpoint!, ctx);
  const what = `docker://${ref.name}: tags`;
  const tags: string[] = [];
  try {
    let next: URL | undefined = client.resolve(`/v2/${endpoint!.repository}/tags/list?n=${PAGE_SIZE}`);
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const res = await client.send({ method: "GET", url: next, scopes: [pullScope(endpoint!.repository)], expect: [200], what, signal: ctx.signal });
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
  } finally {
    await client.close();
  }
  return { Repository: ref.name, Tags: tags };
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
