// The blob-info cache file: where it lives, what survives a corrupt or partly wrong file, and
// that two processes' entries are merged rather than lost.
import assert from "node:assert/strict";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { BlobInfoCache, cacheDir } from "../src/blob-info-cache.js";
import { sha256 } from "../src/digest.js";
import { tempDir } from "./helpers/tools.js";

const D1 = sha256("diff 1");
const D2 = sha256("diff 2");
const B1 = sha256("blob 1");
const B2 = sha256("blob 2");

test("lives in $XDG_CACHE_HOME/imgcopy, else ~/.cache/imgcopy (a relative XDG_CACHE_HOME is ignored, as the spec says)", () => {
  assert.equal(cacheDir({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" }), "/x/cache/imgcopy");
  assert.equal(cacheDir({ XDG_CACHE_HOME: "rel", HOME: "/home/u" }), "/home/u/.cache/imgcopy");
  assert.equal(cacheDir({ HOME: "/home/u" }), "/home/u/.cache/imgcopy");
});

test("remembers per location and algorithm, keeps only well-formed entries, and merges with another writer", async () => {
  const tmp = await tempDir("imgcopy-cache-");
  try {
    const env = { XDG_CACHE_HOME: tmp.path };
    const warnings: string[] = [];
    const warn = (m: string): void => void warnings.push(m);
    const a = await BlobInfoCache.open(env, warn);
    a.record("oci:/a", D1, { digest: B1, size: 10, algorithm: "gzip", level: 4 });
    a.record("oci:/a", D1, { digest: B2, size: 20, algorithm: "zstd" });
    const b = await BlobInfoCache.open(env, warn); // a second process, opened before the first saves
    b.record("oci:/b", D2, { digest: B2, size: 20, algorithm: "gzip" });
    await a.save();
    await b.save();
    const c = await BlobInfoCache.open(env, warn);
    assert.deepEqual(c.candidates("oci:/a", D1, "gzip"), [{ digest: B1, size: 10, algorithm: "gzip", level: 4 }]);
    assert.deepEqual(c.candidates("oci:/a", D1, "zstd").map((x) => x.digest), [B2]);
    assert.deepEqual(c.candidates("oci:/b", D2, "gzip").map((x) => x.digest), [B2], "the other writer's entry survived");
    assert.deepEqual(c.candidates("oci:/b", D1, "gzip"), []);
    c.forget("oci:/a", D1, B1);
    assert.deepEqual(c.candidates("oci:/a", D1, "gzip"), []);

    // Wrong fields are dropped one by one; the rest of the file is kept.
    const path = join(cacheDir(env), "blob-info-cache-v1.json");
    const bad = { digest: "sha256:nope", size: 1, algorithm: "gzip" };
    const wrongAlgo = { digest: B1, size: 1, algorithm: "bzip2" };
    await writeFile(path, JSON.stringify({ version: 1, locations: { "oci:/a": { [D1]: [bad, wrongAlgo, { digest: B1, size: 5, algorithm: "gzip" }], "not-a-digest": [] } } }));
    const d = await BlobInfoCache.open(env, warn);
    assert.deepEqual(d.candidates("oci:/a", D1, "gzip"), [{ digest: B1, size: 5, algorithm: "gzip" }]);
    assert.deepEqual(warnings, []);

    await writeFile(path, '{"version": 2, "locations": {}}');
    const e = await BlobInfoCache.open(env, warn);
    assert.deepEqual(e.candidates("oci:/a", D1, "gzip"), []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /blob-info-cache-v1\.json is corrupt; starting with an empty one$/);
    assert.deepEqual(await readdir(cacheDir(env)), ["blob-info-cache-v1.json"]);
  } finally {
    await tmp.cleanup();
  }
});

test("a cache that cannot be written is no error, and nothing is left behind", async () => {
  const tmp = await tempDir("imgcopy-cache-");
  try {
    await writeFile(join(tmp.path, "imgcopy"), "a file where the folder should be");
    const cache = await BlobInfoCache.open({ XDG_CACHE_HOME: tmp.path }, () => assert.fail("no warning expected"));
    cache.record("oci:/a", D1, { digest: B1, size: 10, algorithm: "gzip" });
    await cache.save();
    assert.equal(await readFile(join(tmp.path, "imgcopy"), "utf8"), "a file where the folder should be");
  } finally {
    await tmp.cleanup();
  }
});

test("nearby candidates: other locations under a prefix, the most recently written first, never the destination's own", async () => {
  const tmp = await tempDir("imgcopy-cache-");
  try {
    const cache = await BlobInfoCache.open({ XDG_CACHE_HOME: tmp.path }, () => undefined);
    cache.record("docker://r:5000/a", D1, { digest: B1, size: 10, algorithm: "gzip" });
    cache.record("docker://other:5000/c", D1, { digest: B1, size: 10, algorithm: "gzip" });
    cache.record("docker://r:5000/b", D1, { digest: B2, size: 20, algorithm: "gzip" });
    cache.record("docker://r:5000/own", D1, { digest: B2, size: 20, algorithm: "gzip" });
    cache.record("docker://r:5000/z", D1, { digest: B2, size: 20, algorithm: "zstd" });
    const near = cache.nearbyCandidates("docker://r:5000/", "docker://r:5000/own", D1, "gzip");
    assert.deepEqual(near.map((n) => [n.location, n.blob.digest]), [["docker://r:5000/b", B2], ["docker://r:5000/a", B1]]);
    assert.deepEqual(cache.nearbyCandidates("docker://r:5000/", "docker://r:5000/own", D2, "gzip"), []);
  } finally {
    await tmp.cleanup();
  }
});
