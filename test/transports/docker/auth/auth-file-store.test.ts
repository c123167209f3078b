// Writing auth files as podman does: the entry, everything else kept, 0600 in 0700 dirs, legacy keys
// removed with their host, nothing half-written left behind.
import assert from "node:assert/strict";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { removeAllCredentials, removeCredentials, storeCredentials } from "../../../../transports/docker/auth/auth-file-store.js";
import { tempDir } from "../../../helpers/tools.js";

let work: { path: string; cleanup: () => Promise<void> };
before(async () => {
  work = await tempDir("imgcopy-authstore-");
});
after(async () => work?.cleanup());

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("auth file writes", () => {
  it("creates the file 0600 and its missing directories 0700", async () => {
    const path = join(work.path, "a", "b", "auth.json");
    await storeCredentials(path, "reg.example:5000", "u", "p:w");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(work.path, "a", "b"))).mode & 0o777, 0o700);
    assert.equal((await stat(join(work.path, "a"))).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(await readFile(path, "utf8")), { auths: { "reg.example:5000": { auth: b64("u:p:w") } } });
    assert.deepEqual(await readdir(join(work.path, "a", "b")), ["auth.json"], "no temp file left");
  });

  it("replaces only its entry (an identitytoken there included) and keeps every other key", async () => {
    const path = join(work.path, "keep.json");
    const before = { auths: { "reg.example": { auth: b64("old:old"), identitytoken: "t" }, "x.example": { auth: b64("x:x") } }, credHelpers: { "h.example": "pass" }, psFormat: "table" };
    await writeFile(path, JSON.stringify(before));
    await storeCredentials(path, "reg.example", "new", "pw");
    assert.deepEqual(JSON.parse(await readFile(path, "utf8")), { ...before, auths: { ...before.auths, "reg.example": { auth: b64("new:pw") } } });
  });

  it("logout removes the entry and legacy URL keys for the same host; false when there is none", async () => {
    const path = join(work.path, "legacy.json");
    await writeFile(path, JSON.stringify({ auths: { "https://reg.example/v1/": { auth: b64("a:a") }, "reg.example/ns": { auth: b64("n:n") }, "o.example": {} } }));
    assert.equal(await removeCredentials(path, "reg.example"), true);
    assert.deepEqual(JSON.parse(await readFile(path, "utf8")), { auths: { "reg.example/ns": { auth: b64("n:n") }, "o.example": {} } });
    assert.equal(await removeCredentials(path, "reg.example"), false);
    assert.equal(await removeCredentials(join(work.path, "missing.json"), "reg.example"), false);
    await removeAllCredentials(path);
    assert.deepEqual(JSON.parse(await readFile(path, "utf8")), { auths: {} });
  });

  it("refuses to rewrite a file that is not JSON, naming it, and leaves it as it was", async () => {
    const path = join(work.path, "broken.json");
    await writeFile(path, "{ not json");
    await assert.rejects(storeCredentials(path, "reg.example", "u", "p"), new RegExp(`auth file ${path}: not valid JSON`));
    assert.equal(await readFile(path, "utf8"), "{ not json");
  });
});
