// The quick path reads a plain command line into exactly the arguments yargs gives, and leaves
// everything else (help, usage errors, odd spellings) to yargs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { scanArgs } from "../../src/cli/argv-scan.js";
import { buildParser } from "../../src/cli/parser.js";
import { quickArgs } from "../../src/cli/quick-args.js";
import type { ParsedArgs } from "../../src/cli/run-command.js";

/** What yargs hands the command for `line` (the verb and its arguments), without running it. */
async function yargsArgs(line: string[]): Promise<{ verb: string; args: ParsedArgs }> {
  let seen: { verb: string; args: ParsedArgs } | undefined;
  await buildParser(line, async (verb, args) => {
    seen = { verb, args };
  }).parseAsync();
  assert.ok(seen, `yargs ran no command for ${line.join(" ")}`);
  return seen;
}

const PLAIN: string[][] = [
  ["inspect", "oci:/x:y"],
  ["--debug", "inspect", "--raw", "--config", "oci:/x"],
  ["inspect", "-n", "--tls-verify=false", "--creds", "u:p", "--authfile", "/a.json", "docker://h/r:1"],
  ["oci:/a", "dir:/b"],
  ["copy", "oci:/a", "dir:/b"],
  ["--root", "/r", "--runroot", "/rr", "--storage-driver", "vfs", "container-copy:c", "oci:/o:x"],
  [
    "copy", "--quiet", "--dest-tls-verify=false", "--src-tls-verify", "--additional-tag", "a:b", "--additional-tag", "c:d",
    "-m", "msg", "--author=me", "--annotation", "k=v", "oci:/a", "docker://x/y",
  ],
  ["--progress", "json", "-f", "oci", "-c", "CMD x", "-c", "USER 1", "--dest-compress", "-a", "oci:/a", "oci:/b"],
  ["--dest-compress-format", "zstd", "--dest-oci-accept-uncompressed-layers", "--verify-diffids", "oci:/a", "oci:/b"],
  ["transports"],
  ["transports", "--json", "--plugin", "/p1", "--plugin", "/p2"],
  ["list", "container-copy:"],
  ["list", "--json", "docker://h"],
  ["--root", "/r", "list-tags", "--cert-dir", "/c", "docker://h/r"],
];

// Lines the quick path must hand to yargs (each is still a valid command line, or yargs' own error).
const FOR_YARGS: string[][] = [
  ["--help"],
  ["inspect", "--help"],
  ["-h"],
  ["inspect", "--no-tags", "docker://h/r"],
  ["--lock-timeout", "5", "inspect", "oci:/x"],
  ["--retry-times", "3", "oci:/a", "oci:/b"],
  ["-qa", "oci:/a", "oci:/b"],
  ["--root", "/a", "--root", "/b", "inspect", "oci:/x"],
  ["--raw", "true", "inspect", "oci:/x"],
  ["--progress", "fancy", "oci:/a", "oci:/b"],
  ["--dest-compress", "--dest-decompress", "oci:/a", "dir:/b"],
  ["inspect", "oci:/x", "extra"],
  ["inspect"],
  ["oci:/a"],
  ["inspect", "--", "oci:/x"],
  ["login", "127.0.0.1:5000"],
  ["logout", "--all"],
  ["completion", "bash"],
  ["--tlsVerify", "false", "inspect", "docker://h/r"],
];

describe("quick command-line path", () => {
  for (const line of PLAIN) {
    it(`reads ${JSON.stringify(line)} as yargs does`, async () => {
      const quick = quickArgs(line, scanArgs(line));
      assert.ok(quick, "the quick path took the line");
      assert.deepEqual(quick, await yargsArgs(line));
    });
  }

  for (const line of FOR_YARGS) {
    it(`leaves ${JSON.stringify(line)} to yargs`, () => {
      assert.equal(quickArgs(line, scanArgs(line)), undefined);
    });
  }
});
