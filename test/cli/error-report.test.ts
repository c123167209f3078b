import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BadReferenceError, DigestMismatchError, NotFoundError, PluginError, StoreBusyError, UsageError } from "../../src/errors.js";
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

  it("keeps an unexpected error to its first line, with the stack and causes only in debug", () => {
    const err = new Error("something broke\nsecond line", { cause: new Error("root cause") });
    assert.deepEqual(describeError(err, false), { lines: ["imgcopy: something broke (run with --debug for details)"], exitCode: 1 });
    const debug = describeError(err, true).lines;
    assert.equal(debug[0], "imgcopy: something broke");
    assert.ok(debug.some((l) => l.startsWith("caused by: Error: root cause")));
  });
});
