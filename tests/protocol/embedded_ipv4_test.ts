import assert from "node:assert/strict";
import fc from "fast-check";
import { embeddedIPv4 } from "../../src/protocol/embedded_ipv4.ts";
import { parseIPv6 } from "../../src/protocol/ip.ts";
import { hex, toHex } from "./_fixtures.ts";

function embedded(bytes: string): string | null {
  const v4 = embeddedIPv4(hex(bytes));
  return v4 && toHex(v4);
}

Deno.test("embeddedIPv4() returns the IPv4 address when the IPv6 address is a transition form", async (t) => {
  const cases: Array<[string, string, string]> = [
    [
      "IPv4-mapped ::ffff:10.1.2.3",
      "00 00 00 00 00 00 00 00 00 00 ff ff 0a 01 02 03",
      "0a 01 02 03",
    ],
    [
      "IPv4-compatible ::10.1.2.3",
      "00 00 00 00 00 00 00 00 00 00 00 00 0a 01 02 03",
      "0a 01 02 03",
    ],
    [
      "IPv4-compatible ::192.0.2.1",
      "00 00 00 00 00 00 00 00 00 00 00 00 c0 00 02 01",
      "c0 00 02 01",
    ],
    [
      "IPv4-compatible ::2, the first one after ::1",
      "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02",
      "00 00 00 02",
    ],
    [
      "NAT64 well-known 64:ff9b::10.1.2.3",
      "00 64 ff 9b 00 00 00 00 00 00 00 00 0a 01 02 03",
      "0a 01 02 03",
    ],
    [
      "NAT64 local-use /96 64:ff9b:1:abcd::10.1.2.3",
      "00 64 ff 9b 00 01 ab cd 00 00 00 00 0a 01 02 03",
      "0a 01 02 03",
    ],
    [
      "NAT64 local-use, suffix of a shorter layout 64:ff9b:1:a01:2:300::",
      "00 64 ff 9b 00 01 0a 01 00 02 03 00 00 00 00 00",
      "00 00 00 00",
    ],
    [
      "6to4 2002:a01:203:1::1",
      "20 02 0a 01 02 03 00 01 00 00 00 00 00 00 00 01",
      "0a 01 02 03",
    ],
    [
      "Teredo, server 203.0.113.5, client 10.1.2.3",
      "20 01 00 00 cb 00 71 05 80 00 63 bf f5 fe fd fc",
      "0a 01 02 03",
    ],
    [
      "Teredo, server 65.54.227.120, client 192.0.2.45",
      "20 01 00 00 41 36 e3 78 80 00 63 bf 3f ff fd d2",
      "c0 00 02 2d",
    ],
    [
      "Teredo, internal server 10.0.0.1, public client 192.0.2.1",
      "20 01 00 00 0a 00 00 01 80 00 63 bf 3f ff fd fe",
      "c0 00 02 01",
    ],
  ];
  for (const [name, bytes, v4] of cases) {
    await t.step(name, () => assert.equal(embedded(bytes), v4));
  }
});

Deno.test("embeddedIPv4() returns null when the address is :: or ::1", async (t) => {
  const cases: Array<[string, string]> = [
    ["::", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"],
    ["::1", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01"],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, () => assert.equal(embedded(bytes), null));
  }
});

Deno.test("embeddedIPv4() returns null when the address is outside every transition prefix", async (t) => {
  const cases: Array<[string, string]> = [
    ["IPv4 10.1.2.3", "0a 01 02 03"],
    ["15 bytes", "00 00 00 00 00 00 00 00 00 00 ff ff 0a 01 02"],
    ["17 bytes", "00 00 00 00 00 00 00 00 00 00 ff ff 0a 01 02 03 04"],
    [
      "SIIT ::ffff:0:10.1.2.3",
      "00 00 00 00 00 00 00 00 ff ff 00 00 0a 01 02 03",
    ],
    ["::1:a01:203", "00 00 00 00 00 00 00 00 00 00 00 01 0a 01 02 03"],
    ["::ff:a01:203", "00 00 00 00 00 00 00 00 00 00 00 ff 0a 01 02 03"],
    [
      "64:ff9b::1:0:a01:203, not /96",
      "00 64 ff 9b 00 00 00 00 00 00 00 01 0a 01 02 03",
    ],
    ["64:ff9b:2::a01:203", "00 64 ff 9b 00 02 00 00 00 00 00 00 0a 01 02 03"],
    ["65:ff9b::a01:203", "00 65 ff 9b 00 00 00 00 00 00 00 00 0a 01 02 03"],
    ["2001:db8::1", "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"],
    ["2001:1::a01:203", "20 01 00 01 00 00 00 00 00 00 00 00 0a 01 02 03"],
    ["2003:a01:203::", "20 03 0a 01 02 03 00 00 00 00 00 00 00 00 00 00"],
    ["2606:4700:4700::1111", "26 06 47 00 47 00 00 00 00 00 00 00 00 00 11 11"],
    ["fe80::a01:203", "fe 80 00 00 00 00 00 00 00 00 00 00 0a 01 02 03"],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, () => assert.equal(embedded(bytes), null));
  }
});

Deno.test("embeddedIPv4() returns a copy when it finds an address", () => {
  const bytes = parseIPv6("64:ff9b::10.1.2.3")!;
  const v4 = embeddedIPv4(bytes)!;
  v4[0] = 0xc0;
  assert.equal(toHex(bytes), "00 64 ff 9b 00 00 00 00 00 00 00 00 0a 01 02 03");
});

/** Each form as a builder from the IPv4 address and bytes it leaves free. */
const FORMS: Record<string, (v4: number[], free: number[]) => number[]> = {
  mapped: (v4) => [...new Array(10).fill(0), 0xff, 0xff, ...v4],
  compatible: (v4) => [...new Array(12).fill(0), ...v4],
  "nat64 well-known": (
    v4,
  ) => [0, 0x64, 0xff, 0x9b, ...new Array(8).fill(0), ...v4],
  "nat64 local-use": (
    v4,
    free,
  ) => [0, 0x64, 0xff, 0x9b, 0, 1, ...free.slice(0, 6), ...v4],
  "6to4": (v4, free) => [0x20, 0x02, ...v4, ...free.slice(0, 10)],
  teredo: (v4, free) => [
    0x20,
    0x01,
    0,
    0,
    ...free.slice(0, 8),
    ...v4.map((b) => b ^ 0xff),
  ],
};

Deno.test("embeddedIPv4() recovers the IPv4 address when it is put into each form", async (t) => {
  for (const [name, build] of Object.entries(FORMS)) {
    await t.step(name, () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 255 }), {
            minLength: 4,
            maxLength: 4,
          }),
          fc.array(fc.integer({ min: 0, max: 255 }), {
            minLength: 10,
            maxLength: 10,
          }),
          (v4, free) => {
            // :: and ::1 are not IPv4-compatible (see the unit cases).
            fc.pre(
              name !== "compatible" || v4.some((b, i) => b > (i === 3 ? 1 : 0)),
            );
            const bytes = Uint8Array.from(build(v4, free));
            assert.equal(bytes.length, 16);
            assert.deepStrictEqual([...embeddedIPv4(bytes)!], v4);
          },
        ),
      );
    });
  }
});
