import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createProgressRenderer, type ProgressOutput } from "../../../src/cli/progress/progress-renderer.js";
import type { ProgressEvent } from "../../../src/types.js";

const LAYER = `sha256:1a2b3c4d5e6f${"0".repeat(52)}`;
const LAYER2 = `sha256:abcdefabcdef${"1".repeat(52)}`;
const CONFIG = `sha256:c0ffee000000${"2".repeat(52)}`;

function capture(isTTY = false): ProgressOutput & { text: string } {
  const out = { text: "", isTTY, columns: 100, write: (t: string) => ((out.text += t), true) };
  return out;
}

const copyEvents: ProgressEvent[] = [
  { kind: "blob", digest: LAYER, bytes: 0, total: 2048, state: "start" },
  { kind: "blob", digest: LAYER2, bytes: 0, total: 10, state: "skipped" },
  { kind: "blob", digest: LAYER, bytes: 1024, total: 2048, state: "progress" },
  { kind: "blob", digest: LAYER, bytes: 2048, total: 2048, state: "done" },
  { kind: "config", digest: CONFIG, bytes: 0, total: 100, state: "start" },
  { kind: "config", digest: CONFIG, bytes: 100, total: 100, state: "done" },
  { kind: "manifest", bytes: 0, total: 300, state: "start" },
  { kind: "manifest", bytes: 300, total: 300, state: "done" },
];

const IMAGE1 = `sha256:111111aaaaaa${"3".repeat(52)}`;
const IMAGE2 = `sha256:222222bbbbbb${"4".repeat(52)}`;
const LIST = `sha256:333333cccccc${"5".repeat(52)}`;

/** What copy-all-instances reports for a list of two images sharing no layer. */
const listEvents: ProgressEvent[] = [
  { kind: "image", digest: IMAGE1, position: 1, count: 2, bytes: 0, total: -1, state: "start" },
  { kind: "blob", digest: LAYER, bytes: 2048, total: 2048, state: "done" },
  { kind: "manifest", digest: IMAGE1, bytes: 0, total: 300, state: "start" },
  { kind: "manifest", digest: IMAGE1, bytes: 300, total: 300, state: "done" },
  { kind: "image", digest: IMAGE1, position: 1, count: 2, bytes: 0, total: -1, state: "done" },
  { kind: "image", digest: IMAGE2, position: 2, count: 2, bytes: 0, total: -1, state: "start" },
  { kind: "blob", digest: LAYER2, bytes: 10, total: 10, state: "done" },
  { kind: "manifest", digest: IMAGE2, bytes: 0, total: 300, state: "start" },
  { kind: "manifest", digest: IMAGE2, bytes: 300, total: 300, state: "done" },
  { kind: "image", digest: IMAGE2, position: 2, count: 2, bytes: 0, total: -1, state: "done" },
  { kind: "manifest", digest: LIST, list: true, bytes: 0, total: 500, state: "start" },
  { kind: "manifest", digest: LIST, list: true, bytes: 500, total: 500, state: "done" },
];

describe("progress renderers", () => {
  it("lines, --all: each image announced with its place, each manifest written, then the list", async () => {
    const out = capture();
    const r = await createProgressRenderer("lines", false, out);
    for (const e of listEvents) r.onEvent(e);
    assert.equal(
      out.text,
      [
        "Copying image 111111aaaaaa (1/2)",
        "Copying blob 1a2b3c4d5e6f done",
        "Writing manifest to image destination",
        "Copying image 222222bbbbbb (2/2)",
        "Copying blob abcdefabcdef done",
        "Writing manifest to image destination",
        "Writing manifest list to image destination",
        "",
      ].join("\n"),
    );
  });

  it("bars, --all: a row per image and per manifest, the list's last", async () => {
    const out = capture(true);
    const r = await createProgressRenderer("bars", false, out);
    for (const e of listEvents) r.onEvent(e);
    r.finish();
    const ESC = String.fromCharCode(27);
    const rows = out.text.split("\n").filter((l) => l !== "").map((l) => l.replace(new RegExp(`^(${ESC}\\[\\d+A)?\r${ESC}\\[2K`), ""));
    assert.deepEqual(rows, [
      "Copying image 111111aaaaaa (1/2) done",
      "Copying blob 1a2b3c4d5e6f done",
      "Writing manifest to image destination",
      "Copying image 222222bbbbbb (2/2) done",
      "Copying blob abcdefabcdef done",
      "Writing manifest to image destination",
      "Writing manifest list to image destination",
    ]);
  });


  it("lines: one plain line per finished item, skopeo's wording", async () => {
    const out = capture();
    const r = await createProgressRenderer("auto", false, out);
    for (const e of copyEvents) r.onEvent(e);
    r.finish();
    assert.equal(
      out.text,
      [
        "Copying blob abcdefabcdef skipped: already exists",
        "Copying blob 1a2b3c4d5e6f done",
        "Copying config c0ffee000000 done",
        "Writing manifest to image destination",
        "",
      ].join("\n"),
    );
  });

  it("lines: a computed layer is named by its stored digest", async () => {
    const out = capture();
    const r = await createProgressRenderer("lines", false, out);
    r.onEvent({ kind: "blob", digest: "placeholder-0", bytes: 5, total: -1, state: "done", storedDigest: LAYER });
    assert.equal(out.text, "Copying blob 1a2b3c4d5e6f done\n");
  });

  it("json: one JSON object per line", async () => {
    const out = capture(true);
    const r = await createProgressRenderer("json", false, out);
    for (const e of copyEvents) r.onEvent(e);
    const lines = out.text.trimEnd().split("\n").map((l) => JSON.parse(l) as ProgressEvent);
    assert.deepEqual(lines, copyEvents);
  });

  it("none, and --quiet whatever the mode: nothing", async () => {
    for (const [mode, quiet] of [["none", false], ["lines", true], ["json", true], ["auto", true]] as const) {
      const out = capture(true);
      const r = await createProgressRenderer(mode, quiet, out);
      for (const e of copyEvents) r.onEvent(e);
      r.finish();
      assert.equal(out.text, "", `${mode} quiet=${quiet}`);
    }
  });

  it("bars on a terminal: rows redrawn in place, final state on finish", async () => {
    const out = capture(true);
    const r = await createProgressRenderer("auto", false, out);
    r.onEvent(copyEvents[0]!);
    r.onEvent(copyEvents[2]!);
    r.finish(); // draws now, whatever the throttle
    assert.match(out.text, /Copying blob 1a2b3c4d5e6f \[=+> *\] 1\.0KiB \/ 2\.0KiB\n$/);
    const before = out.text.length;
    for (const e of copyEvents.slice(3)) r.onEvent(e);
    r.finish();
    const redraw = out.text.slice(before);
    assert.ok(redraw.startsWith("\x1b[1A"), "moves up over the rows drawn before");
    const ESC = String.fromCharCode(27);
    const rows = redraw.split("\n").filter((l) => l !== "").map((l) => l.replace(new RegExp(`^(${ESC}\\[\\d+A)?\r${ESC}\\[2K`), ""));
    assert.deepEqual(rows, ["Copying blob 1a2b3c4d5e6f done", "Copying config c0ffee000000 done", "Writing manifest to image destination"]);
  });
});
