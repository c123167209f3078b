import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatListing, humanSize, timeAgo } from "../../src/cli/listing-format.js";

describe("formatListing", () => {
  it("prints podman's columns with 12-character ids", () => {
    const now = Date.parse("2024-05-01T12:00:00Z");
    const text = formatListing(
      [
        { kind: "container", id: "a".repeat(64), names: ["web"], image: `sha256:${"b".repeat(64)}`, size: 5632, created: "2024-05-01T10:00:00Z" },
        { kind: "container", id: "c".repeat(64), names: [], image: "", created: "2024-05-01T11:59:30Z" },
        { kind: "image", id: "d".repeat(64), names: ["localhost/x:latest", "y:1"], size: 1_234_567, created: "2024-04-01T12:00:00Z" },
      ],
      now,
    );
    const lines = text.trimEnd().split("\n");
    assert.match(lines[0]!, /^ID\s+TYPE\s+NAMES\s+IMAGE\s+SIZE\s+CREATED$/);
    assert.match(lines[1]!, /^a{12}\s+container\s+web\s+b{12}\s+5\.632 kB\s+2 hours ago$/);
    assert.match(lines[2]!, /^c{12}\s+container\s+<none>\s+scratch\s+-\s+30 seconds ago$/);
    assert.match(lines[3]!, /^d{12}\s+image\s+localhost\/x:latest,y:1\s+-\s+1\.235 MB\s+4 weeks ago$/);
    // Columns line up: every row's NAMES and SIZE start where the header's do.
    for (const heading of ["TYPE", "NAMES", "SIZE"]) {
      const col = lines[0]!.indexOf(heading);
      for (const l of lines.slice(1)) assert.match(l.slice(col - 1, col + 1), /^ \S$/, `${heading} column in ${l}`);
    }
  });

  it("adds a MADE BY column when the location tells which tool made each container", () => {
    const now = Date.parse("2024-05-01T12:00:00Z");
    const text = formatListing(
      [
        { kind: "container", id: "a".repeat(64), names: ["pc"], image: "b".repeat(64), madeBy: "podman", created: "2024-05-01T10:00:00Z" },
        { kind: "container", id: "c".repeat(64), names: ["wc"], image: "", madeBy: "buildah" },
        { kind: "image", id: "d".repeat(64), names: ["x:1"], size: 1000 },
      ],
      now,
    );
    const lines = text.trimEnd().split("\n");
    assert.match(lines[0]!, /^ID\s+TYPE\s+NAMES\s+IMAGE\s+MADE BY\s+SIZE\s+CREATED$/);
    assert.match(lines[1]!, /^a{12}\s+container\s+pc\s+b{12}\s+podman\s+-\s+2 hours ago$/);
    assert.match(lines[2]!, /^c{12}\s+container\s+wc\s+scratch\s+buildah\s+-\s+-$/);
    assert.match(lines[3]!, /^d{12}\s+image\s+x:1\s+-\s+-\s+1 kB\s+-$/);
  });

  it("prints the header alone for an empty location", () => {
    assert.equal(formatListing([]), "ID   TYPE   NAMES   IMAGE   SIZE   CREATED\n");
  });
});

describe("humanSize and timeAgo", () => {
  it("use decimal units and podman's wording", () => {
    assert.equal(humanSize(0), "0 B");
    assert.equal(humanSize(999), "999 B");
    assert.equal(humanSize(1000), "1 kB");
    assert.equal(humanSize(7_340_032), "7.34 MB");
    const now = Date.parse("2024-05-01T12:00:00Z");
    assert.equal(timeAgo("2024-05-01T11:59:00Z", now), "About a minute ago");
    assert.equal(timeAgo("2024-05-01T11:00:00Z", now), "About an hour ago");
    assert.equal(timeAgo("2024-04-28T12:00:00Z", now), "3 days ago");
    assert.equal(timeAgo("2021-05-01T12:00:00Z", now), "3 years ago");
    assert.equal(timeAgo("not a date", now), "not a date");
  });
});
