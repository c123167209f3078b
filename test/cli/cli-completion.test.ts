// Shell completion, for real: the script `imgcopy completion bash` prints is sourced in bash and its
// function run as bash runs it on TAB, with an `imgcopy` on PATH that runs this source tree.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run, tempDir } from "../helpers/tools.js";
import { cleanEnv, fixturePlugin, imgcopy, installImgcopyCommand } from "./run-imgcopy.js";

let work: { path: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;
before(async () => {
  work = await tempDir();
  const bin = await installImgcopyCommand(work.path);
  env = cleanEnv(work.path, { PATH: `${bin}:${process.env.PATH ?? ""}` });
});
after(async () => {
  await work.cleanup();
});

/** COMPREPLY after TAB with bash's COMP_WORDS (split at ":" as bash splits them), as one string per candidate. */
async function complete(...words: string[]): Promise<string[]> {
  const script = 'source <(imgcopy completion bash) && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && _imgcopy_completions && printf "%s\\n" "${COMPREPLY[@]}"';
  const { stdout } = await run("bash", ["-c", script, "bash", ...words], { env });
  return stdout.split("\n").filter((l) => l !== "");
}

describe("shell completion", () => {
  it("completion bash registers a function for imgcopy", async () => {
    const { stdout } = await run("bash", ["-c", "source <(imgcopy completion bash) && complete -p imgcopy"], { env });
    assert.equal(stdout.trim(), "complete -o default -F _imgcopy_completions imgcopy");
  });

  it("offers the verbs and transport names for the first word", async () => {
    const first = await complete("imgcopy", "");
    for (const w of ["copy", "inspect", "list", "transports", "completion", "oci:", "dir:", "docker-archive:", "container-copy:"]) {
      assert.ok(first.includes(w), `${w} in ${first.join(" ")}`);
    }
    assert.ok(!first.includes("bash"));
    assert.deepEqual(await complete("imgcopy", "con"), ["container-copy:", "containers-storage:"]);
  });

  it("offers the copy flags, and only a verb's own flags after it", async () => {
    assert.deepEqual(await complete("imgcopy", "--dest-co"), ["--dest-compress", "--dest-compress-format", "--dest-compress-level"]);
    const inspect = await complete("imgcopy", "inspect", "--");
    assert.ok(inspect.includes("--raw") && inspect.includes("--no-tags") && inspect.includes("--plugin"), inspect.join(" "));
    assert.ok(!inspect.some((f) => f === "--q" || f === "--progress" || f === "--dest-compress"), inspect.join(" "));
  });

  it("offers flag values, the destination's transports, and the shells", async () => {
    assert.deepEqual(await complete("imgcopy", "--format", ""), ["oci", "v2s2"]);
    assert.deepEqual(await complete("imgcopy", "--dest-compress-format", "z"), ["zstd"]);
    // "oci:./in" arrives split at the colon; the second reference is completed.
    assert.deepEqual(await complete("imgcopy", "oci", ":", "./in", "do"), ["docker:", "docker-archive:"]);
    assert.deepEqual(await complete("imgcopy", "completion", ""), ["bash", "zsh"]);
    assert.deepEqual(await complete("imgcopy", "--plugin", fixturePlugin("tarball"), "tar"), ["tarball:"]);
  });

  it("completes paths after oci:, dir: (folders) and docker-archive: (files too); nothing after other transports", async () => {
    const p = join(work.path, "paths");
    await mkdir(join(p, "alpha"), { recursive: true });
    await mkdir(join(p, "beta"));
    await writeFile(join(p, "img.tar"), "");
    assert.deepEqual(await complete("imgcopy", "oci", ":", `${p}/a`), [`${p}/alpha/`]);
    assert.deepEqual(await complete("imgcopy", "dir", ":", `${p}/`), [`${p}/alpha/`, `${p}/beta/`]);
    assert.deepEqual(await complete("imgcopy", "oci", ":", "./in", "docker-archive", ":", `${p}/i`), [`${p}/img.tar`]);
    assert.deepEqual(await complete("imgcopy", "container-copy", ":", "x"), []);
  });

  it("offers only transports that can list after list", async () => {
    assert.deepEqual(await complete("imgcopy", "list", ""), ["container-copy:", "containers-storage:", "docker:"]);
    assert.deepEqual(await complete("imgcopy", "list", "--plugin", fixturePlugin("tarball"), "ta"), ["tarball:"]);
  });

  it("completion zsh prints a zsh script; another shell is a usage error", async () => {
    const zsh = await imgcopy(["completion", "zsh"]);
    assert.equal(zsh.code, 0, zsh.stderr);
    assert.match(zsh.stdout, /^#compdef imgcopy\n/);
    assert.match(zsh.stdout, /compdef _imgcopy imgcopy/);
    assert.match(zsh.stdout, /--get-yargs-completions/);
    const fish = await imgcopy(["completion", "fish"]);
    assert.equal(fish.code, 2);
  });
});
