// `imgcopy login`/`logout` when the auth file sends the host to a credential helper (credHelpers): as
// podman, the credentials go to (and are erased from) the helper, a namespaced login there is refused
// in one line, and with only a credsStore the login goes to `auths` with a warning.
import assert from "node:assert/strict";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { cleanEnv, imgcopy, stderrLines } from "../../../cli/run-imgcopy.js";
import { startRegistry, type RegistryServer } from "../../../helpers/registry-server.js";
import { tempDir } from "../../../helpers/tools.js";

/** A real docker-credential-filestore: keeps each server's JSON in a file of `store`, logs each verb to `store/calls`. */
function helperScript(store: string): string {
  return `#!/bin/sh
store="${store}"
echo "$1" >> "$store/calls"
name() { echo "$1" | tr '/:' '__'; }
case "$1" in
  store) body=$(cat); server=$(echo "$body" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/'); echo "$body" > "$store/$(name "$server")" ;;
  get) read -r server; f="$store/$(name "$server")"; if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) read -r server; f="$store/$(name "$server")"; if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  *) echo "unsupported $1" >&2; exit 2 ;;
esac
`;
}

describe("login/logout with credHelpers and credsStore in the auth file", () => {
  let registry: RegistryServer;
  let work: { path: string; cleanup: () => Promise<void> };
  let store: string;
  let env: NodeJS.ProcessEnv;
  let authFile: string;
  let n = 0;
  before(async () => {
    work = await tempDir("imgcopy-login-helpers-");
    registry = await startRegistry();
    const bin = join(work.path, "bin");
    await mkdir(bin);
    env = cleanEnv(work.path, { PATH: `${bin}:${process.env.PATH ?? ""}` });
    store = join(work.path, "store");
    await writeFile(join(bin, "docker-credential-filestore"), helperScript(store));
    await chmod(join(bin, "docker-credential-filestore"), 0o755);
  });
  beforeEach(async () => {
    authFile = join(work.path, `auth-${++n}.json`);
    await rm(store, { recursive: true, force: true });
    await mkdir(store);
  });
  after(async () => {
    await registry?.stop();
    await work?.cleanup();
  });

  const login = (target: string) => imgcopy(["login", "--tls-verify=false", "--authfile", authFile, "-u", "alice", "-p", "s3cret", target], { env });
  const calls = async (): Promise<string[]> => (await readFile(join(store, "calls"), "utf8").catch(() => "")).split("\n").filter(Boolean);

  it("stores the login in the host's credHelpers helper, not in auths; --get-login reads it back; logout erases it", async () => {
    const original = `${JSON.stringify({ auths: {}, credHelpers: { [registry.host]: "filestore" } }, null, "\t")}\n`;
    await writeFile(authFile, original);
    const r = await login(registry.host);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "Login Succeeded!\n");
    assert.equal(await readFile(authFile, "utf8"), original, "the auth file is left as it was");
    const kept = JSON.parse(await readFile(join(store, registry.host.replace(":", "_")), "utf8")) as Record<string, string>;
    assert.deepEqual(kept, { ServerURL: registry.host, Username: "alice", Secret: "s3cret" });
    const who = await imgcopy(["login", "--get-login", "--authfile", authFile, registry.host], { env });
    assert.equal(who.stdout, "alice\n", who.stderr);
    const out = await imgcopy(["logout", "--authfile", authFile, registry.host], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.ok((await calls()).includes("erase"), `the helper was asked to erase: ${(await calls()).join(",")}`);
    const again = await imgcopy(["login", "--get-login", "--authfile", authFile, registry.host], { env });
    assert.notEqual(again.code, 0, "logged out");
  });

  it("logout --all erases every credHelpers host from its helper and empties auths and credHelpers, as podman; an absent helper is a warning and keeps its entry", async () => {
    const credHelpers = { [registry.host]: "filestore", "gone.example": "absent" };
    await writeFile(authFile, JSON.stringify({ auths: { "other.example": { auth: "eDp5" } }, credHelpers }));
    assert.equal((await login(registry.host)).code, 0);
    const r = await imgcopy(["logout", "--all", "--authfile", authFile], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(stderrLines(r), ["imgcopy: warning: credential helper docker-credential-absent is not on PATH; what it holds for gone.example stays there"]);
    assert.deepEqual(JSON.parse(await readFile(authFile, "utf8")), { auths: {}, credHelpers: { "gone.example": "absent" } });
    const who = await imgcopy(["login", "--get-login", "--authfile", authFile, registry.host], { env });
    assert.notEqual(who.code, 0, `nothing left in the helper: ${who.stdout}`);
  });

  it("refuses a namespaced login for a host credHelpers sends to a helper, in one line, and writes nothing", async () => {
    const original = `${JSON.stringify({ credHelpers: { [registry.host]: "filestore" } }, null, "\t")}\n`;
    await writeFile(authFile, original);
    const r = await login(`${registry.host}/team`);
    assert.notEqual(r.code, 0);
    assert.deepEqual(stderrLines(r), [
      `imgcopy: cannot log in to ${registry.host}/team: ${authFile} sends ${registry.host} to credential helper docker-credential-filestore (credHelpers), which keeps no namespaces; log in to ${registry.host}`,
    ]);
    assert.equal(await readFile(authFile, "utf8"), original);
    assert.ok(!(await calls()).includes("store"));
  });

  it("with only a credsStore, writes auths (read before the store by imgcopy and podman) and warns in one line", async () => {
    await writeFile(authFile, JSON.stringify({ credsStore: "filestore" }));
    const r = await login(registry.host);
    assert.equal(r.code, 0, r.stderr);
    const warnings = stderrLines(r);
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, new RegExp(`names credsStore filestore: the login for ${registry.host} goes to its auths`));
    const written = JSON.parse(await readFile(authFile, "utf8")) as { auths: Record<string, { auth: string }>; credsStore: string };
    assert.equal(written.credsStore, "filestore");
    assert.equal(written.auths[registry.host]?.auth, Buffer.from("alice:s3cret").toString("base64"));
    assert.ok(!(await calls()).includes("store"), "nothing stored in the credsStore");
  });
});
