import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { IMGCOPY_API_VERSION } from "../../src/plugins.js";
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

  it("commands other than copy do not show copy's --progress and -q; inspect takes skopeo's -n/--no-tags", async () => {
    for (const verb of ["inspect", "list", "transports", "completion"]) {
      const r = await imgcopy([verb, "--help"]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes("--progress") && !r.stdout.includes("--quiet"), `${verb} --help: ${r.stdout}`);
    }
    const copy = await imgcopy(["copy", "--help"]);
    assert.match(copy.stdout, /-q, --quiet/);
    assert.match(copy.stdout, /--progress/);
    assert.match(copy.stdout, /--change .*CMD, ENTRYPOINT/);
    assert.ok(!copy.stdout.includes("ONBUILD"), "ONBUILD is ignored, so not offered");
    const inspect = await imgcopy(["inspect", "--help"]);
    assert.match(inspect.stdout, /-n, --no-tags\s+docker:\/\/: do not list the repository's tags/);
  });

  it("inspect -n and --no-tags are accepted (no-ops, as for skopeo scripts)", async () => {
    for (const flag of ["-n", "--no-tags"]) {
      const r = await imgcopy(["inspect", flag, "oci:/nonexistent/layout"]);
      assert.equal(r.code, 3, `${flag}: ${r.stderr}`);
      assert.equal(stderrLines(r).length, 1);
      assert.doesNotMatch(r.stderr, /imgcopy --help/);
    }
  });

  it("bare imgcopy prints the usage on stderr and exits 2", async () => {
    const r = await imgcopy([]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^Usage: imgcopy \[copy\] SRC DEST/);
    assert.match(r.stderr, /imgcopy inspect <ref>/);
    assert.match(r.stderr, /--dest-compress-format/);
  });

  it("an unknown option is named as such, once, whatever comes after it", async () => {
    const cases: [string[], string][] = [
      [["--bogus", "oci:a", "dir:b"], "--bogus"],
      [["--sign-by", "KEY", "oci:a", "dir:b"], "--sign-by"],
      [["copy", "oci:a", "dir:b", "--bogus=1"], "--bogus"],
      [["-z", "oci:a", "dir:b"], "-z"],
      [["inspect", "--progress", "json", "oci:a"], "--progress"],
      [["transports", "-q"], "-q"],
    ];
    for (const [args, flag] of cases) {
      const r = await imgcopy(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.deepEqual(stderrLines(r), [`imgcopy: unknown option ${flag} (see "imgcopy --help")`], args.join(" "));
    }
  });

  it("a missing argument names what the command needs", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["inspect"], /^imgcopy: missing argument: imgcopy inspect needs an image reference: imgcopy inspect TRANSPORT:DETAILS/],
      [["list"], /^imgcopy: missing argument: imgcopy list needs a location/],
      [["copy", "oci:/x"], /^imgcopy: missing argument: imgcopy copy needs a source and a destination/],
      [["oci:/x"], /^imgcopy: missing argument: imgcopy needs a source and a destination: imgcopy SRC DEST/],
    ];
    for (const [args, expected] of cases) {
      const r = await imgcopy(args);
      assert.equal(r.code, 2, r.stderr);
      const lines = stderrLines(r);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? "", expected);
    }
  });

  it("usage errors exit 2 with one line that points to --help", async () => {
    for (const args of [["oci:x"], ["copy", "a:b", "c:d", "e:f"], ["--format", "v3", "a:b", "c:d"], ["--dest-compress", "--dest-decompress", "a:b", "c:d"]]) {
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
      'imgcopy: invalid image reference "just-a-path": expected TRANSPORT:DETAILS, e.g. oci:./out:latest (known transports: container-copy, containers-storage, dir, docker, docker-archive, oci)',
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

  it("an extra argument is named once", async () => {
    const r = await imgcopy(["copy", "a:b", "c:d", "e:f"]);
    assert.deepEqual(stderrLines(r), ['imgcopy: unexpected argument: e:f (see "imgcopy --help")']);
  });
});
