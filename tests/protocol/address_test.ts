import assert from "node:assert/strict";
import {
  ProtocolError,
  UnexpectedEofError,
} from "../../src/protocol/errors.ts";
import {
  decodeAddress,
  encodeAddress,
  formatAddress,
  readAddress,
  type SocksAddress,
  toSocksAddress,
  UNSPECIFIED_ADDRESS,
} from "../../src/protocol/address.ts";
import { AddressType, Reply } from "../../src/protocol/constants.ts";
import { ChunkReader, hex, toHex } from "./_fixtures.ts";

const LONG_NAME = "a".repeat(255);

/** Every address type, as a value and as its wire form. */
const FIXTURES: Array<[string, SocksAddress, string]> = [
  [
    "IPv4",
    { type: AddressType.IPV4, host: "192.0.2.1", port: 80 },
    "01 c0 00 02 01 00 50",
  ],
  [
    "IPv4 unspecified, port 0",
    { type: AddressType.IPV4, host: "0.0.0.0", port: 0 },
    "01 00 00 00 00 00 00",
  ],
  [
    "IPv4, port 65535",
    { type: AddressType.IPV4, host: "255.255.255.255", port: 65535 },
    "01 ff ff ff ff ff ff",
  ],
  [
    "IPv6",
    { type: AddressType.IPV6, host: "2001:db8::1", port: 443 },
    "04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 01 bb",
  ],
  [
    "IPv6 loopback",
    { type: AddressType.IPV6, host: "::1", port: 1080 },
    "04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 04 38",
  ],
  [
    "domain",
    { type: AddressType.DOMAIN, host: "example.org", port: 8080 },
    "03 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 1f 90",
  ],
  [
    "one-byte domain",
    { type: AddressType.DOMAIN, host: "a", port: 1 },
    "03 01 61 00 01",
  ],
  [
    "UTF-8 domain",
    { type: AddressType.DOMAIN, host: "bücher.de", port: 80 },
    "03 0a 62 c3 bc 63 68 65 72 2e 64 65 00 50",
  ],
  [
    "255-byte domain",
    { type: AddressType.DOMAIN, host: LONG_NAME, port: 80 },
    `03 ff ${"61 ".repeat(255)} 00 50`,
  ],
];

Deno.test("encodeAddress() writes ATYP, ADDR and PORT when given each address type", async (t) => {
  for (const [name, address, bytes] of FIXTURES) {
    await t.step(name, () => {
      assert.equal(toHex(encodeAddress(address)), toHex(hex(bytes)));
    });
  }
});

Deno.test("decodeAddress() reads back what encodeAddress() wrote when given each address type", async (t) => {
  for (const [name, address, bytes] of FIXTURES) {
    await t.step(name, () => {
      const wire = hex(bytes);
      assert.deepStrictEqual(decodeAddress(wire, 0), {
        address,
        end: wire.length,
      });
    });
  }
});

Deno.test("decodeAddress() starts at the offset and reports the end when the buffer has more", () => {
  const wire = hex("ff ff 01 c0 00 02 01 00 50 aa bb");
  assert.deepStrictEqual(decodeAddress(wire, 2), {
    address: { type: AddressType.IPV4, host: "192.0.2.1", port: 80 },
    end: 9,
  });
});

Deno.test("decodeAddress() writes IPv6 in RFC 5952 form when decoding", () => {
  const wire = hex("04 20 01 0d b8 00 00 00 00 00 01 00 00 00 00 00 01 00 50");
  assert.equal(decodeAddress(wire, 0).address.host, "2001:db8::1:0:0:1");
});

function assertProtocolError(
  fn: () => unknown,
  reply: Reply,
  message?: RegExp,
): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ProtocolError, String(error));
    assert.equal(error.reply, reply);
    if (message) assert.match(error.message, message);
    return true;
  });
}

Deno.test("decodeAddress() throws ProtocolError with REP 01 when the buffer is truncated", async (t) => {
  const cases: Array<[string, string]> = [
    ["empty", ""],
    ["ATYP only", "01"],
    ["IPv4 without port", "01 c0 00 02 01"],
    ["IPv4 with half a port", "01 c0 00 02 01 00"],
    ["IPv6 short", "04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 01"],
    ["domain without length", "03"],
    ["domain shorter than its length", "03 05 61 62 63 00 50"],
    ["domain without port", "03 01 61"],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, () => {
      assertProtocolError(
        () => decodeAddress(hex(bytes), 0),
        Reply.GENERAL_FAILURE,
        /truncated/,
      );
    });
  }
  await t.step("offset past the end", () => {
    assertProtocolError(
      () => decodeAddress(hex("01 c0 00 02 01 00 50"), 7),
      Reply.GENERAL_FAILURE,
      /truncated/,
    );
  });
});

Deno.test("decodeAddress() throws ProtocolError with REP 08 when ATYP is unknown", async (t) => {
  for (const atyp of [0x00, 0x02, 0x05, 0xff]) {
    await t.step(`ATYP ${atyp}`, () => {
      const wire = Uint8Array.of(atyp, 1, 2, 3, 4, 0, 80);
      assertProtocolError(
        () => decodeAddress(wire, 0),
        Reply.ADDRESS_TYPE_NOT_SUPPORTED,
        new RegExp(`0x${atyp.toString(16).padStart(2, "0")}`),
      );
    });
  }
});

Deno.test("decodeAddress() throws ProtocolError with REP 01 when the domain is malformed", async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ["length 0", "03 00 00 50", /length 0/],
    ["NUL", "03 03 61 00 62 00 50", /control/],
    ["newline", "03 03 61 0a 62 00 50", /control/],
    ["carriage return", "03 03 61 0d 62 00 50", /control/],
    ["escape", "03 03 61 1b 62 00 50", /control/],
    ["DEL", "03 03 61 7f 62 00 50", /control/],
    ["invalid UTF-8 byte", "03 03 61 ff 62 00 50", /UTF-8/],
    ["truncated UTF-8 sequence", "03 02 61 c3 00 50", /UTF-8/],
    ["overlong UTF-8", "03 03 61 c0 af 00 50", /UTF-8/],
  ];
  for (const [name, bytes, message] of cases) {
    await t.step(name, () => {
      assertProtocolError(
        () => decodeAddress(hex(bytes), 0),
        Reply.GENERAL_FAILURE,
        message,
      );
    });
  }
});

Deno.test("readAddress() reads exactly the address when more bytes follow", async (t) => {
  for (const [name, address, bytes] of FIXTURES) {
    await t.step(name, async () => {
      const wire = hex(bytes);
      // ATYP has been read by the caller; split the rest into small chunks.
      const rest = wire.subarray(1);
      const reader = new ChunkReader(
        rest.subarray(0, 1),
        rest.subarray(1, 3),
        rest.subarray(3),
        "de ad be ef",
      );
      assert.deepStrictEqual(await readAddress(reader, wire[0]!), address);
      assert.equal(reader.rest(), "de ad be ef");
    });
  }
});

Deno.test("readAddress() rejects with REP 08 before reading when ATYP is unknown", async () => {
  const reader = new ChunkReader("c0 00 02 01 00 50");
  await assert.rejects(readAddress(reader, 0x02), (error: unknown) => {
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.reply, Reply.ADDRESS_TYPE_NOT_SUPPORTED);
    return true;
  });
  assert.equal(reader.rest(), "c0 00 02 01 00 50");
});

Deno.test("readAddress() rejects with REP 01 when the domain is malformed", async (t) => {
  const cases: Array<[string, string]> = [
    ["length 0", "00 00 50"],
    ["control character", "02 61 0a 00 50"],
    ["not UTF-8", "02 61 fe 00 50"],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, async () => {
      await assert.rejects(
        readAddress(new ChunkReader(bytes), AddressType.DOMAIN),
        (error: unknown) => {
          assert.ok(error instanceof ProtocolError);
          assert.equal(error.reply, Reply.GENERAL_FAILURE);
          return true;
        },
      );
    });
  }
});

Deno.test("readAddress() rejects with UnexpectedEof when the stream ends early", async (t) => {
  const cases: Array<[string, number, string]> = [
    ["IPv4", AddressType.IPV4, "c0 00 02 01 00"],
    ["IPv6", AddressType.IPV6, "20 01 0d b8"],
    ["domain length", AddressType.DOMAIN, ""],
    ["domain", AddressType.DOMAIN, "05 61 62"],
  ];
  for (const [name, type, bytes] of cases) {
    await t.step(name, async () => {
      await assert.rejects(
        readAddress(new ChunkReader(bytes), type),
        UnexpectedEofError,
      );
    });
  }
});

Deno.test("toSocksAddress() chooses the address type from the host's form when building", async (t) => {
  const cases: Array<[string, SocksAddress]> = [
    ["192.0.2.1", { type: AddressType.IPV4, host: "192.0.2.1", port: 80 }],
    ["2001:db8::1", { type: AddressType.IPV6, host: "2001:db8::1", port: 80 }],
    ["[2001:db8::1]", {
      type: AddressType.IPV6,
      host: "2001:db8::1",
      port: 80,
    }],
    ["[::1]", { type: AddressType.IPV6, host: "::1", port: 80 }],
    [
      "2001:DB8:0:0::1",
      { type: AddressType.IPV6, host: "2001:db8::1", port: 80 },
    ],
    ["example.org", {
      type: AddressType.DOMAIN,
      host: "example.org",
      port: 80,
    }],
    ["localhost", { type: AddressType.DOMAIN, host: "localhost", port: 80 }],
    // Leading zeros are not an IPv4 literal here, so they go out as a name.
    ["010.0.0.1", { type: AddressType.DOMAIN, host: "010.0.0.1", port: 80 }],
    [LONG_NAME, { type: AddressType.DOMAIN, host: LONG_NAME, port: 80 }],
  ];
  for (const [host, address] of cases) {
    await t.step(host.slice(0, 20), () => {
      assert.deepStrictEqual(toSocksAddress(host, 80), address);
    });
  }
});

Deno.test("toSocksAddress() accepts ports 0 and 65535 when at the range's ends", () => {
  assert.equal(toSocksAddress("192.0.2.1", 0).port, 0);
  assert.equal(toSocksAddress("192.0.2.1", 65535).port, 65535);
});

Deno.test("toSocksAddress() throws RangeError when the port or name is out of range", async (t) => {
  for (const port of [-1, 65536, 1.5, NaN, Infinity]) {
    await t.step(`port ${port}`, () => {
      assert.throws(() => toSocksAddress("192.0.2.1", port), {
        name: "RangeError",
        message: `Port must be an integer 0-65535, got ${port}`,
      });
    });
  }
  await t.step("empty name", () => {
    assert.throws(() => toSocksAddress("", 80), {
      name: "RangeError",
      message: 'Domain name must be 1-255 bytes, got 0: ""',
    });
  });
  await t.step("empty brackets", () => {
    assert.throws(() => toSocksAddress("[]", 80), RangeError);
  });
  await t.step("256-byte name", () => {
    assert.throws(() => toSocksAddress("a".repeat(256), 80), {
      name: "RangeError",
      message: /got 256/,
    });
  });
  await t.step("name over 255 bytes in UTF-8", () => {
    // 128 characters, 256 bytes.
    assert.throws(() => toSocksAddress("ü".repeat(128), 80), RangeError);
  });
});

Deno.test("encodeAddress() throws RangeError when the host does not fit its type", async (t) => {
  const cases: Array<[string, SocksAddress]> = [
    ["IPv6 as IPv4", { type: AddressType.IPV4, host: "::1", port: 80 }],
    ["name as IPv4", { type: AddressType.IPV4, host: "example.org", port: 80 }],
    ["IPv4 as IPv6", { type: AddressType.IPV6, host: "192.0.2.1", port: 80 }],
    ["empty name", { type: AddressType.DOMAIN, host: "", port: 80 }],
    ["long name", {
      type: AddressType.DOMAIN,
      host: "a".repeat(256),
      port: 80,
    }],
    ["unknown type", {
      type: 0x02 as AddressType,
      host: "192.0.2.1",
      port: 80,
    }],
  ];
  for (const [name, address] of cases) {
    await t.step(name, () => {
      assert.throws(() => encodeAddress(address), RangeError);
    });
  }
});

Deno.test("encodeAddress() throws RangeError when the port is out of range", async (t) => {
  for (const port of [-1, 65536, 80.5]) {
    await t.step(`port ${port}`, () => {
      assert.throws(
        () => encodeAddress({ type: AddressType.IPV4, host: "0.0.0.0", port }),
        RangeError,
      );
    });
  }
});

Deno.test("formatAddress() writes host:port when given each address type, IPv6 in brackets", () => {
  assert.equal(
    formatAddress({ type: AddressType.IPV4, host: "192.0.2.1", port: 80 }),
    "192.0.2.1:80",
  );
  assert.equal(
    formatAddress({ type: AddressType.IPV6, host: "2001:db8::1", port: 443 }),
    "[2001:db8::1]:443",
  );
  assert.equal(
    formatAddress({ type: AddressType.DOMAIN, host: "example.org", port: 0 }),
    "example.org:0",
  );
  assert.equal(formatAddress(UNSPECIFIED_ADDRESS), "0.0.0.0:0");
});

Deno.test("UNSPECIFIED_ADDRESS is frozen when a caller tries to change it", () => {
  assert.ok(Object.isFrozen(UNSPECIFIED_ADDRESS));
  assert.equal(
    toHex(encodeAddress(UNSPECIFIED_ADDRESS)),
    "01 00 00 00 00 00 00",
  );
});
