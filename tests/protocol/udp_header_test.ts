import assert from "node:assert/strict";
import { ProtocolError } from "../../src/protocol/errors.ts";
import { AddressType, Reply } from "../../src/protocol/constants.ts";
import {
  decodeUdpDatagram,
  encodeUdpDatagram,
} from "../../src/protocol/udp_header.ts";
import { hex, toHex } from "./_fixtures.ts";

const DATAGRAMS: Array<[string, AddressType, string, number, string, string]> =
  [
    [
      "IPv4",
      AddressType.IPV4,
      "192.0.2.1",
      53,
      "68 69",
      "00 00 00 01 c0 00 02 01 00 35 68 69",
    ],
    [
      "IPv6",
      AddressType.IPV6,
      "2001:db8::1",
      53,
      "ff",
      "00 00 00 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 00 35 ff",
    ],
    [
      "domain",
      AddressType.DOMAIN,
      "example.org",
      53,
      "00 01",
      "00 00 00 03 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00 35 00 01",
    ],
    [
      "empty payload",
      AddressType.IPV4,
      "0.0.0.0",
      0,
      "",
      "00 00 00 01 00 00 00 00 00 00",
    ],
  ];

Deno.test("encodeUdpDatagram() writes RSV, FRAG 0, the address and the payload when given each address type", async (t) => {
  for (const [name, type, host, port, data, bytes] of DATAGRAMS) {
    await t.step(name, () => {
      assert.equal(
        toHex(encodeUdpDatagram({ type, host, port }, hex(data))),
        bytes,
      );
    });
  }
});

Deno.test("decodeUdpDatagram() reads back what encodeUdpDatagram() wrote when given each address type", async (t) => {
  for (const [name, type, host, port, data, bytes] of DATAGRAMS) {
    await t.step(name, () => {
      const decoded = decodeUdpDatagram(hex(bytes));
      assert.equal(decoded.fragment, 0);
      assert.deepStrictEqual(decoded.address, { type, host, port });
      assert.equal(toHex(decoded.data), data);
    });
  }
});

Deno.test("decodeUdpDatagram() returns a view of the payload when decoding", () => {
  const datagram = hex("00 00 00 01 c0 00 02 01 00 35 68 69 21");
  const { data } = decodeUdpDatagram(datagram);
  assert.equal(data.buffer, datagram.buffer);
  assert.equal(data.byteOffset, 10);
  assert.equal(data.length, 3);
  datagram[10] = 0x48;
  assert.equal(toHex(data), "48 69 21");
});

Deno.test("decodeUdpDatagram() returns FRAG when it is not zero", async (t) => {
  for (const frag of [0x01, 0x7f, 0x80, 0xff]) {
    await t.step(`FRAG ${frag}`, () => {
      const datagram = hex("00 00 00 01 c0 00 02 01 00 35 68");
      datagram[2] = frag;
      const decoded = decodeUdpDatagram(datagram);
      assert.equal(decoded.fragment, frag);
      assert.equal(toHex(decoded.data), "68");
    });
  }
});

Deno.test("decodeUdpDatagram() throws ProtocolError when RSV is not zero", async (t) => {
  for (const rsv of ["00 01", "01 00", "ff ff"]) {
    await t.step(rsv, () => {
      assert.throws(
        () => decodeUdpDatagram(hex(`${rsv} 00 01 c0 00 02 01 00 35 68`)),
        (error: unknown) => {
          assert.ok(error instanceof ProtocolError);
          assert.equal(error.message, "UDP header RSV is not zero");
          return true;
        },
      );
    });
  }
});

Deno.test("decodeUdpDatagram() throws ProtocolError when the header is truncated", async (t) => {
  const cases: Array<[string, RegExp]> = [
    ["", /0 bytes is shorter than a header/],
    ["00 00 00", /3 bytes is shorter than a header/],
    ["00 00 00 01", /truncated/],
    ["00 00 00 01 c0 00 02 01 00", /truncated/],
    ["00 00 00 03 05 61 62", /truncated/],
  ];
  for (const [bytes, message] of cases) {
    await t.step(JSON.stringify(bytes), () => {
      assert.throws(() => decodeUdpDatagram(hex(bytes)), (error: unknown) => {
        assert.ok(error instanceof ProtocolError);
        assert.equal(error.reply, Reply.GENERAL_FAILURE);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

Deno.test("decodeUdpDatagram() throws ProtocolError with REP 08 when ATYP is unknown", () => {
  assert.throws(() => decodeUdpDatagram(hex("00 00 00 02 c0 00 02 01 00 35")), {
    name: "ProtocolError",
    reply: Reply.ADDRESS_TYPE_NOT_SUPPORTED,
  });
});

Deno.test("decodeUdpDatagram() returns an empty payload when the header fills the datagram", () => {
  const decoded = decodeUdpDatagram(hex("00 00 00 01 c0 00 02 01 00 35"));
  assert.equal(decoded.data.length, 0);
});
