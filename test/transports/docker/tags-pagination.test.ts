// `imgcopy list-tags` and `imgcopy list` over a registry that pages its tag list with Link headers
// (docker-registry 2.8 ignores `n` and sends one page: a small server of the test's own pages instead),
// and a Link that leads back to a page already read, refused in one line.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { cleanEnv, imgcopy, stderrLines } from "../../cli/run-imgcopy.js";
import { tempDir } from "../../helpers/tools.js";
import { startOwnRegistry, type OwnRegistry } from "./own-registry-server.js";

const TAGS = Array.from({ length: 23 }, (_, i) => `v${String(i).padStart(2, "0")}`);
const PAGE = 5;

describe("docker:// tag lists paged with Link", () => {
  let server: OwnRegistry;
  let home: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    home = await tempDir("imgcopy-tags-pages-");
    server = await startOwnRegistry((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/v2/paged/app/tags/list") {
        // At most PAGE tags a page whatever `n` asks (as registries that cap it); the next page starts after `last`.
        const last = url.searchParams.get("last");
        const from = last === null ? 0 : TAGS.indexOf(last) + 1;
        const page = TAGS.slice(from, from + PAGE);
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (from + PAGE < TAGS.length) {
          // Alternately relative and absolute, as registries differ.
          const next = `/v2/paged/app/tags/list?n=${PAGE}&last=${page[page.length - 1]!}`;
          headers.link = `<${(from / PAGE) % 2 === 0 ? next : `http://${server.host}${next}`}>; rel="next"`;
        }
        res.writeHead(200, headers).end(JSON.stringify({ name: "paged/app", tags: page }));
        return true;
      }
      if (url.pathname === "/v2/loop/app/tags/list") {
        res.writeHead(200, { "content-type": "application/json", link: '</v2/loop/app/tags/list?last=a>; rel="next"' }).end(JSON.stringify({ name: "loop/app", tags: ["a"] }));
        return true;
      }
      return false;
    });
  });
  after(async () => {
    await server?.stop();
    await home?.cleanup();
  });

  it("list-tags follows every page, in order, as skopeo prints them", async () => {
    const r = await imgcopy(["list-tags", "--tls-verify=false", `docker://${server.host}/paged/app`], { env: cleanEnv(home.path) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { Repository: `${server.host}/paged/app`, Tags: TAGS });
    const pages = server.requests.filter((q) => q.startsWith("GET /v2/paged/app/tags/list"));
    assert.equal(pages.length, Math.ceil(TAGS.length / PAGE), pages.join("\n"));
  });

  it("list docker://HOST/REPO shows the tags of every page", async () => {
    const r = await imgcopy(["list", "--tls-verify=false", `docker://${server.host}/paged/app`], { env: cleanEnv(home.path) });
    assert.equal(r.code, 0, r.stderr);
    for (const tag of TAGS) assert.ok(r.stdout.includes(`${server.host}/paged/app:${tag}`), `${tag} listed:\n${r.stdout}`);
  });

  it("a Link back to a page already read is refused in one line, not followed for ever", async () => {
    const r = await imgcopy(["list-tags", "--tls-verify=false", `docker://${server.host}/loop/app`], { env: cleanEnv(home.path) });
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, "");
    assert.deepEqual(stderrLines(r).length, 1, r.stderr);
    assert.match(r.stderr, /loop\/app: tags: the registry's Link header leads back to a page already read/);
    assert.ok(server.requests.filter((q) => q.startsWith("GET /v2/loop/")).length <= 3, "stopped at once");
  });

  it("a registry that cannot be reached is named by the repository as given, with no tag (as skopeo)", async () => {
    const closed = await closedPort();
    const r = await imgcopy(["list-tags", "--tls-verify=false", `docker://127.0.0.1:${closed}/gone/app`], { env: cleanEnv(home.path) });
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, "");
    assert.equal(stderrLines(r).length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`docker://127\\.0\\.0\\.1:${closed}/gone/app: .*(refused|ECONNREFUSED)`));
    assert.doesNotMatch(r.stderr, /gone\/app:latest/);
  });
});

/** A port on 127.0.0.1 that nothing listens on (one the system gave out, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
