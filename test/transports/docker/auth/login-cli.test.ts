// `imgcopy login`/`logout` usage: what they refuse before reaching any registry (one line, exit 2),
// a bad registry name, and shell completion of their flags.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { completionCandidates } from "../../../../src/cli/completion-candidates.js";
import { parseLoginTarget } from "../../../../transports/docker/auth/login.js";
import { imgcopy, stderrLines } from "../../../cli/run-imgcopy.js";

async function usageFailure(args: string[], pattern: RegExp): Promise<void> {
  const r = await imgcopy(args);
  assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  const lines = stderrLines(r);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, "");
}

describe("login/logout usage", () => {
  it("refuses conflicting or missing inputs in one line, exit 2, before any request", async () => {
    await usageFailure(["login", "-u", "a", "-p", "b", "--password-stdin", "127.0.0.1:1"], /--password and --password-stdin cannot be used together/);
    await usageFailure(["login", "--password-stdin", "127.0.0.1:1"], /--password-stdin needs --username/);
    await usageFailure(["login", "--get-login", "-u", "a", "127.0.0.1:1"], /--get-login takes no --username/);
    // No terminal to ask on (stdin is not a TTY here).
    await usageFailure(["login", "-u", "a", "127.0.0.1:1"], /login needs a password: --password-stdin, --password, or a terminal/);
    await usageFailure(["login", "127.0.0.1:1"], /login needs --username/);
    await usageFailure(["logout"], /imgcopy logout needs a registry \(HOST\[:PORT\]\) or --all/);
    await usageFailure(["logout", "--all", "127.0.0.1:1"], /logout takes a registry or --all, not both/);
    await usageFailure(["login"], /missing argument: imgcopy login needs a registry/);
  });

  it("a registry name that is not HOST[:PORT][/NS] is a bad reference", async () => {
    const r = await imgcopy(["login", "-u", "a", "-p", "b", "not a host"]);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(stderrLines(r), ['imgcopy: "not a host" is not a registry: expected HOST[:PORT][/NAMESPACE]']);
  });

  it("normalises what it is given: scheme, trailing slash, Docker Hub's names", () => {
    assert.deepEqual(parseLoginTarget("https://reg.example:5000/"), { host: "reg.example:5000", namespace: "", key: "reg.example:5000" });
    assert.deepEqual(parseLoginTarget("reg.example/team/app"), { host: "reg.example", namespace: "team/app", key: "reg.example/team/app" });
    assert.equal(parseLoginTarget("index.docker.io").key, "docker.io");
    assert.equal(parseLoginTarget("https://index.docker.io/v1/").key, "docker.io");
  });

  it("completion offers login's and logout's flags", async () => {
    const none = async (): Promise<string[]> => [];
    assert.deepEqual(await completionCandidates(["login", "--pass"], none), ["--password", "--password-stdin"]);
    assert.deepEqual(await completionCandidates(["logout", "--a"], none), ["--all", "--authfile"]);
    assert.ok((await completionCandidates(["lo"], none)).includes("login"));
    assert.ok((await completionCandidates(["lo"], none)).includes("logout"));
  });
});
