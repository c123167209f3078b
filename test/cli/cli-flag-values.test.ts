// Flags given without their value, or with a value of the wrong kind, are refused with one usage
// line naming the flag (as skopeo's "flag needs an argument"), before anything is read or written.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { imgcopy, stderrLines } from "./run-imgcopy.js";

async function refused(args: string[], line: string): Promise<void> {
  const r = await imgcopy(args);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(stderrLines(r), [line]);
  assert.equal(r.stdout, "");
}

describe("flag values", () => {
  it("--dest-compress-level and --digestfile with no value are refused", async () => {
    await refused(["oci:/nonexistent/a", "dir:/nonexistent/b", "--dest-compress-level"], 'imgcopy: --dest-compress-level needs a value (see "imgcopy --help")');
    await refused(["--dest-compress-level", "--quiet", "oci:/nonexistent/a", "dir:/nonexistent/b"], 'imgcopy: --dest-compress-level needs a value (see "imgcopy --help")');
    await refused(["oci:/nonexistent/a", "dir:/nonexistent/b", "--digestfile"], 'imgcopy: --digestfile needs a value (see "imgcopy --help")');
    await refused(["oci:/nonexistent/a", "dir:/nonexistent/b", "--digestfile", ""], 'imgcopy: --digestfile needs a file name (see "imgcopy --help")');
  });

  it("--timestamp takes whole seconds, as buildah does", async () => {
    await refused(["--timestamp", "1.5", "container-copy:x", "dir:/nonexistent/b"], 'imgcopy: --timestamp needs whole seconds since the epoch, not 1.5 (see "imgcopy --help")');
  });
});
