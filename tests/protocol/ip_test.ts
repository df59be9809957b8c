import assert from "node:assert/strict";
import {
  canonicalIp,
  formatIPv4,
  formatIPv6,
  ipFamily,
  isLoopback,
  isUnspecified,
  isV4Mapped,
  parseIPv4,
  parseIPv6,
} from "../../src/protocol/ip.ts";
import { hex, toHex } from "./_fixtures.ts";

function v4(text: string): string | null {
  const bytes = parseIPv4(text);
  return bytes && toHex(bytes);
}

function v6(text: string): string | null {
  const bytes = parseIPv6(text);
  return bytes && toHex(bytes);
}

Deno.test("parseIPv4() returns the four bytes when given a dotted quad", async (t) => {
  const cases: Array<[string, string]> = [
    ["192.0.2.1", "c0 00 02 01"],
    ["0.0.0.0", "00 00 00 00"],
    ["255.255.255.255", "ff ff ff ff"],
    ["127.0.0.1", "7f 00 00 01"],
    ["10.0.0.10", "0a 00 00 0a"],
  ];
  for (const [text, bytes] of cases) {
    await t.step(text, () => assert.equal(v4(text), bytes));
  }
});

Deno.test("parseIPv4() returns null when the text is not a dotted quad", async (t) => {
  const cases = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "1.2.3.1000",
    "1..2.3",
    "1.2.3.",
    ".1.2.3",
    "1.2.3.-4",
    "1.2.3.+4",
    "1.2.3.4 ",
    " 1.2.3.4",
    "a.b.c.d",
    "0x7f.0.0.1",
    "1e2.0.0.1",
    "::1",
    "example.org",
  ];
  for (const text of cases) {
    await t.step(JSON.stringify(text), () => assert.equal(v4(text), null));
  }
});

Deno.test("parseIPv4() returns null when a part has a leading zero", async (t) => {
  for (const text of ["010.0.0.1", "127.0.0.01", "00.0.0.0", "1.2.3.004"]) {
    await t.step(text, () => assert.equal(v4(text), null));
  }
});

Deno.test("parseIPv6() returns the sixteen bytes when given a literal", async (t) => {
  const cases: Array<[string, string]> = [
    ["::", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"],
    ["::1", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01"],
    ["1::", "00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00"],
    ["2001:db8::1", "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"],
    [
      "2001:DB8:0:0:8:800:200C:417A",
      "20 01 0d b8 00 00 00 00 00 08 08 00 20 0c 41 7a",
    ],
    ["1:2:3:4:5:6:7:8", "00 01 00 02 00 03 00 04 00 05 00 06 00 07 00 08"],
    ["1:2:3:4:5:6:7::", "00 01 00 02 00 03 00 04 00 05 00 06 00 07 00 00"],
    ["::2:3:4:5:6:7:8", "00 00 00 02 00 03 00 04 00 05 00 06 00 07 00 08"],
    ["fe80::1:0:0:1", "fe 80 00 00 00 00 00 00 00 01 00 00 00 00 00 01"],
    [
      "0000:0000:0000:0000:0000:0000:0000:0001",
      "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01",
    ],
  ];
  for (const [text, bytes] of cases) {
    await t.step(text, () => assert.equal(v6(text), bytes));
  }
});

Deno.test("parseIPv6() reads a trailing dotted quad when one is embedded", async (t) => {
  const cases: Array<[string, string]> = [
    ["::ffff:192.0.2.1", "00 00 00 00 00 00 00 00 00 00 ff ff c0 00 02 01"],
    ["::192.0.2.1", "00 00 00 00 00 00 00 00 00 00 00 00 c0 00 02 01"],
    [
      "64:ff9b::203.0.113.5",
      "00 64 ff 9b 00 00 00 00 00 00 00 00 cb 00 71 05",
    ],
    [
      "1:2:3:4:5:6:1.2.3.4",
      "00 01 00 02 00 03 00 04 00 05 00 06 01 02 03 04",
    ],
    [
      "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
      "ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff",
    ],
  ];
  for (const [text, bytes] of cases) {
    await t.step(text, () => assert.equal(v6(text), bytes));
  }
});

Deno.test("parseIPv6() returns null when the literal is malformed", async (t) => {
  const cases = [
    "",
    ":",
    ":::",
    "1:::2",
    "1::2::3",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1::2:3:4:5:6:7:8",
    "12345::1",
    "g::1",
    "::1 ",
    "[::1]",
    "fe80::1%eth0",
    "1.2.3.4",
    "example.org",
    "::1.2.3",
    "::1.2.3.4.5",
    "::256.0.0.1",
    "::01.2.3.4",
    "1.2.3.4::",
    "::1.2.3.4:5",
    "1:2:3:4:5:6:7:1.2.3.4",
    "1:2:3:4:5:1.2.3.4",
    "::ffff:1.2.3.4::",
  ];
  for (const text of cases) {
    await t.step(JSON.stringify(text), () => assert.equal(v6(text), null));
  }
});

Deno.test("formatIPv4() writes a dotted quad when given four or more bytes", () => {
  assert.equal(formatIPv4(hex("c0 00 02 01")), "192.0.2.1");
  assert.equal(formatIPv4(hex("00 00 00 00 ff")), "0.0.0.0");
});

Deno.test("formatIPv6() writes RFC 5952 text when given sixteen bytes", async (t) => {
  const cases: Array<[string, string, string]> = [
    ["all zero", "00000000000000000000000000000000", "::"],
    ["loopback", "00000000000000000000000000000001", "::1"],
    [
      "lower case, no leading zeros",
      "20010db8000000000000000000000001",
      "2001:db8::1",
    ],
    ["trailing zeros", "00010000000000000000000000000000", "1::"],
    ["no zero group", "00010002000300040005000600070008", "1:2:3:4:5:6:7:8"],
    [
      "leading zeros dropped",
      "0abc00de000f00000000000000001000",
      "abc:de:f::1000",
    ],
    [
      "hex digits in lower case",
      "ABCDEF0000000000000000000000FFFF",
      "abcd:ef00::ffff",
    ],
    // RFC 5952 §4.2.3: the longest run is compressed.
    ["longest run wins", "20010db8000000010000000000000001", "2001:db8:0:1::1"],
    ["longest run later", "00010000000100000000000000000001", "1:0:1::1"],
    // RFC 5952 §4.2.3: of equal runs, the first is compressed.
    [
      "first of equal runs",
      "20010db8000000000001000000000001",
      "2001:db8::1:0:0:1",
    ],
    [
      "first of equal runs at edges",
      "00000000000100010001000100000000",
      "::1:1:1:1:0:0",
    ],
    // RFC 5952 §4.2.2: a single zero group is not compressed.
    [
      "single zero group",
      "20010db8000000010001000100010001",
      "2001:db8:0:1:1:1:1:1",
    ],
    [
      "single zero groups",
      "00010000000200000003000000040000",
      "1:0:2:0:3:0:4:0",
    ],
  ];
  for (const [name, bytes, text] of cases) {
    await t.step(name, () => assert.equal(formatIPv6(hex(bytes)), text));
  }
});

Deno.test("formatIPv6() writes text that parseIPv6() reads back when round-tripped", () => {
  const samples = [
    "2001:db8::1",
    "::",
    "fe80::1:0:0:1",
    "1:0:1::1",
    "::ffff:c000:201",
  ];
  for (const text of samples) {
    assert.equal(formatIPv6(parseIPv6(text)!), text);
  }
});

Deno.test("ipFamily() names the family when given a literal and null otherwise", () => {
  assert.equal(ipFamily("192.0.2.1"), 4);
  assert.equal(ipFamily("2001:db8::1"), 6);
  assert.equal(ipFamily("::ffff:192.0.2.1"), 6);
  assert.equal(ipFamily("example.org"), null);
  assert.equal(ipFamily("[::1]"), null);
  assert.equal(ipFamily("010.0.0.1"), null);
});

Deno.test("canonicalIp() rewrites a literal into canonical text when given an IP", async (t) => {
  const cases: Array<[string, string]> = [
    ["2001:DB8:0:0::1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["192.0.2.1", "192.0.2.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::FFFF:C000:0201", "192.0.2.1"],
    ["::127.0.0.1", "::7f00:1"],
    ["64:ff9b::192.0.2.1", "64:ff9b::c000:201"],
  ];
  for (const [text, canonical] of cases) {
    await t.step(text, () => assert.equal(canonicalIp(text), canonical));
  }
});

Deno.test("canonicalIp() returns the text unchanged when it is not an IP", () => {
  assert.equal(canonicalIp("Example.ORG"), "Example.ORG");
  assert.equal(canonicalIp("010.0.0.1"), "010.0.0.1");
  assert.equal(canonicalIp("[::1]"), "[::1]");
});

Deno.test("isLoopback() is true only when given a loopback address", async (t) => {
  const cases: Array<[string, boolean]> = [
    ["127.0.0.1", true],
    ["127.255.255.254", true],
    ["::1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:127.1.2.3", true],
    ["localhost", true],
    ["128.0.0.1", false],
    ["126.255.255.255", false],
    ["0.0.0.0", false],
    ["::", false],
    ["::2", false],
    ["1::1", false],
    ["::ffff:128.0.0.1", false],
    ["::127.0.0.1", false],
    ["example.org", false],
    ["localhost.example.org", false],
    ["[::1]", false],
  ];
  for (const [text, loopback] of cases) {
    await t.step(text, () => assert.equal(isLoopback(text), loopback));
  }
});

Deno.test("isUnspecified() is true only when given an all-zero address", async (t) => {
  const cases: Array<[string, boolean]> = [
    ["0.0.0.0", true],
    ["::", true],
    ["0:0:0:0:0:0:0:0", true],
    ["0.0.0.1", false],
    ["::1", false],
    ["::ffff:0.0.0.0", false],
    ["localhost", false],
    ["", false],
  ];
  for (const [text, unspecified] of cases) {
    await t.step(JSON.stringify(text), () => {
      assert.equal(isUnspecified(text), unspecified);
    });
  }
});

Deno.test("isV4Mapped() is true only when given ::ffff:a.b.c.d", () => {
  assert.equal(isV4Mapped(hex("00000000000000000000ffff7f000001")), true);
  assert.equal(isV4Mapped(hex("00000000000000000000ffff00000000")), true);
  assert.equal(isV4Mapped(hex("0000000000000000000000007f000001")), false);
  assert.equal(isV4Mapped(hex("00000000000000000001ffff7f000001")), false);
  assert.equal(isV4Mapped(hex("0064ff9b0000000000000000c0000201")), false);
});
