// decodeBase64 (tar-split fields): accepts exactly standard padded base64, as a strict regular
// expression would, and refuses everything else in one line naming the field.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { decodeBase64 } from "../../../../transports/container-storage-copy/layers/tar-split-entries.js";

const STRICT = /^[A-Za-z0-9+/]*={0,2}$/;
const fail = (why: string): never => {
  throw new Error(why);
};

test("decodes what standard base64 encodes, every length", () => {
  for (let n = 0; n < 40; n++) {
    const bytes = randomBytes(n);
    assert.ok(decodeBase64(bytes.toString("base64"), "payload", fail).equals(bytes));
  }
});

test("refuses exactly what a strict pattern refuses", () => {
  const samples = [
    "AB!D", "AB D", "AB=D", "AB-_", "Q===", "QQ=A", "Q Q=", "\u00e9AAA", "====", "A===", "=AAA", "AAA", "AAAAA",
    "AA\nA", "QUJD\n", "QUI=QUI=", "QQ==QQ==", "ABC*", "ab+/", "QUJDRA==", "QUJDREU=", "",
  ];
  for (const s of samples) {
    const ok = s.length % 4 === 0 && STRICT.test(s);
    if (ok) assert.ok(decodeBase64(s, "payload", fail).equals(Buffer.from(s, "base64")), s);
    else assert.throws(() => decodeBase64(s, "name_raw", fail), /^Error: name_raw is not base64$/, JSON.stringify(s));
  }
  assert.throws(() => decodeBase64(42, "payload", fail), /payload is not base64/);
});
