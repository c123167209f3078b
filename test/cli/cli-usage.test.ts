import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { IMGCOPY_API_VERSION } from "../../src/api-version.js";
import { imgcopy, stderrLines } from "./run-imgcopy.js";

const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

describe("imgcopy command line", () => {
  it("--version prints the package and plugin API versions on stdout", async () => {
    const r = await imgcopy(["--version"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `imgcopy version ${pkg.version} (plugin API ${IMGCOPY_API_VERSION})\n`);
    assert.equal(r.stderr, "");
  });

  it("--help lists the commands and skopeo's flag spellings", async () => {
    const r = await imgcopy(["--help"]);
    assert.equal(r.code, 0);
    for (const text of ["imgcopy copy <src> <dest>", "imgcopy inspect <ref>", "imgcopy transports", "imgcopy list <location>",
      "--dest-compress-format", "--additional-tag", "--digestfile", "--omit-history", "--storage-driver", "--progress"]) {
      assert.ok(r.stdout.includes(text), `help mentions ${text}`);
    }
  });

  it("usage errors exit 2 with one line that points to --help", async () => {
    for (const args of [[], ["oci:x"], ["copy", "a:b", "c:d", "e:f"], ["--format", "v3", "a:b", "c:d"], ["--dest-compress", "--dest-decompress", "a:b", "c:d"]]) {
      const r = await imgcopy(args);
      assert.equal(r.code, 2, `exit code for ${args.join(" ")}`);
      const lines = stderrLines(r);
      assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
      assert.match(lines[0]!, /^imgcopy: .*\(see "imgcopy --help"\)$/);
      assert.equal(r.stdout, "");
    }
  });

  it("a bad reference gives one line naming it, exit 2", async () => {
    const noColon = await imgcopy(["just-a-path", "dir:/tmp/x"]);
    assert.equal(noColon.code, 2);
    assert.deepEqual(stderrLines(noColon), [
      'imgcopy: invalid image reference "just-a-path": expected TRANSPORT:DETAILS, e.g. oci:./out:latest (known transports: container-copy, containers-storage, dir, docker-archive, oci)',
    ]);
    const unknown = await imgcopy(["nosuch:thing", "dir:/tmp/x"]);
    assert.equal(unknown.code, 2);
    assert.equal(stderrLines(unknown).length, 1);
    assert.match(unknown.stderr, /^imgcopy: unknown transport "nosuch"; known transports: /);
  });

  it("--debug adds the stack to the message", async () => {
    const r = await imgcopy(["--debug", "nosuch:thing", "dir:/tmp/x"]);
    assert.equal(r.code, 2);
    const lines = stderrLines(r);
    assert.match(lines[0]!, /^imgcopy: unknown transport "nosuch"/);
    assert.ok(lines.length > 2, "stack lines follow");
    assert.match(lines[1]!, /^BadReferenceError: unknown transport/);
  });

  it("a bad flag value is a usage error naming the flag", async () => {
    const r = await imgcopy(["--annotation", "novalue", "nosuch:a", "nosuch:b"]);
    assert.equal(r.code, 2);
    assert.deepEqual(stderrLines(r), ['imgcopy: --annotation "novalue": expected KEY=VALUE (see "imgcopy --help")']);
  });

  it("`completion` prints a shell completion script", async () => {
    const r = await imgcopy(["completion"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /imgcopy/);
    assert.match(r.stdout, /--get-yargs-completions/);
  });
});
