import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Crc64Iso, crc64Iso } from "../../../../transports/container-storage-copy/layers/crc64-iso.js";

// Go's hash/crc64 golden values for the ISO table (crc64_test.go).
const GOLDEN: Array<[string, string]> = [
  ["", "0000000000000000"],
  ["a", "3420000000000000"],
  ["ab", "36c4200000000000"],
  ["abc", "3776c42000000000"],
  ["abcdefgh", "0e21b002d36776c4"],
  ["abcdefghij", "7f5b6e21b002d367"],
  ["Discard medicine more than two years old.", "8ec0e7c835bf9cdf"],
  ["The days of the digital watch are numbered.  -Tom Stoppard", "3e05b21c7a4dc4da"],
  ["There is no reason for any individual to have a computer in their home. -Ken Olsen, 1977", "a7b9d53ea87eb82f"],
  [
    "The fugacity of a constituent in a mixture of gases at a given temperature is proportional to its mole fraction.  Lewis-Randall Rule",
    "0d402559dfe9b70c",
  ],
];

describe("crc64Iso", () => {
  it("matches Go's golden values", () => {
    for (const [input, hex] of GOLDEN) assert.equal(crc64Iso(Buffer.from(input)).toString("hex"), hex, input);
  });

  it("matches the checksum buildah recorded in a tar-split for \"hi\\n\"", () => {
    assert.equal(crc64Iso(Buffer.from("hi\n")).toString("base64"), "YUmYEAAAAAA=");
  });

  it("gives the same value fed in pieces at any alignment", () => {
    const data = Buffer.alloc(10_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const whole = crc64Iso(data).toString("hex");
    for (const cuts of [[1], [3, 4, 5], [7, 1000, 1001], [8, 16, 9999]]) {
      const sum = new Crc64Iso();
      let from = 0;
      for (const to of [...cuts, data.length]) {
        sum.update(data.subarray(from, to));
        from = to;
      }
      assert.equal(sum.digest().toString("hex"), whole, `cuts ${cuts.join(",")}`);
    }
    // A view that starts at an odd offset of its ArrayBuffer takes the bytewise path first.
    const shifted = Buffer.alloc(data.length + 3);
    data.copy(shifted, 3);
    assert.equal(crc64Iso(shifted.subarray(3)).toString("hex"), whole);
  });
});
