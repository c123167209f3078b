import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BadReferenceError, CorruptInputError, DigestMismatchError, IOError, NotFoundError, PluginError, StoreBusyError, UsageError } from "../../src/errors.js";
import { describeError, InterruptedError } from "../../src/cli/error-report.js";

describe("describeError", () => {
  it("maps each error kind to its exit code with one line", () => {
    const cases: [Error, number][] = [
      [new BadReferenceError("bad ref"), 2],
      [new NotFoundError("no such image"), 3],
      [new DigestMismatchError("blob x", "sha256:a", "sha256:b"), 5],
      [new StoreBusyError("store is busy"), 6],
      [new PluginError("plugin refused"), 7],
    ];
    for (const [err, code] of cases) {
      const r = describeError(err, false);
      assert.equal(r.exitCode, code, err.message);
      assert.deepEqual(r.lines, [`imgcopy: ${err.message}`]);
    }
  });

  it("adds the --help hint to usage errors and joins yargs' multi-line messages", () => {
    assert.deepEqual(describeError(new UsageError("--x needs a number"), false), { lines: ['imgcopy: --x needs a number (see "imgcopy --help")'], exitCode: 2 });
    const yargsError = Object.assign(new Error("Invalid values:\n  Argument: format, Given: \"x\""), { name: "YError" });
    assert.deepEqual(describeError(yargsError, false).lines, ['imgcopy: Invalid values: Argument: format, Given: "x" (see "imgcopy --help")']);
  });

  it("exits 130 for SIGINT and 143 for SIGTERM", () => {
    assert.equal(describeError(new InterruptedError("SIGINT"), false).exitCode, 130);
    assert.equal(describeError(new InterruptedError("SIGTERM"), false).exitCode, 143);
    assert.match(describeError(new InterruptedError("SIGTERM"), false).lines[0]!, /^imgcopy: interrupted by SIGTERM/);
  });

  it("names the path of a stray system error instead of printing its stack", () => {
    const sys = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y'"), { code: "ENOENT", syscall: "open", path: "/x/y" });
    assert.deepEqual(describeError(sys, false), { lines: ["imgcopy: /x/y: no such file or directory"], exitCode: 3 });
  });

  it("joins a message spread over lines into one, rather than cutting it", () => {
    const corrupt = new CorruptInputError('manifest of oci:x: not valid JSON: Unexpected token \'g\', "garbage{\n" is not valid JSON');
    assert.deepEqual(describeError(corrupt, false), {
      lines: ['imgcopy: manifest of oci:x: not valid JSON: Unexpected token \'g\', "garbage{ " is not valid JSON'],
      exitCode: 5,
    });
  });

  it("names an unknown argument once, not in kebab and camel case", () => {
    assert.deepEqual(describeError(new UsageError("Unknown arguments: retry-times, retryTimes"), false).lines, [
      'imgcopy: unexpected argument: retry-times (see "imgcopy --help")',
    ]);
  });

  it("a closed output pipe (EPIPE) exits 141 with one line", () => {
    const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE", syscall: "write" });
    const wrapped = new IOError("docker-archive:/dev/stdout: the reader closed the pipe early", { cause: epipe });
    assert.deepEqual(describeError(wrapped, false), { lines: ["imgcopy: docker-archive:/dev/stdout: the reader closed the pipe early"], exitCode: 141 });
    assert.equal(describeError(epipe, false).exitCode, 141);
    assert.equal(describeError(epipe, false).lines.length, 1);
  });

  it("keeps an unexpected error to one line, with the stack and causes only in debug", () => {
    const err = new Error("something broke\nsecond line", { cause: new Error("root cause") });
    assert.deepEqual(describeError(err, false), { lines: ["imgcopy: something broke second line (run with --debug for details)"], exitCode: 1 });
    const debug = describeError(err, true).lines;
    assert.equal(debug[0], "imgcopy: something broke second line");
    assert.ok(debug.some((l) => l.startsWith("caused by: Error: root cause")));
  });
});
