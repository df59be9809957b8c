import assert from "node:assert/strict";
import {
  ProtocolError,
  UnexpectedEofError,
} from "../../src/protocol/errors.ts";
import { AddressType, Command, Reply } from "../../src/protocol/constants.ts";
import {
  encodeReply,
  encodeRequest,
  isKnownCommand,
  readReply,
  readRequest,
} from "../../src/protocol/request.ts";
import { ChunkReader, hex, toHex } from "./_fixtures.ts";

const REQUESTS: Array<[string, Command, string, number, string, string]> = [
  [
    "CONNECT to IPv4",
    Command.CONNECT,
    "192.0.2.1",
    80,
    "ipv4",
    "05 01 00 01 c0 00 02 01 00 50",
  ],
  [
    "BIND to IPv6",
    Command.BIND,
    "2001:db8::1",
    443,
    "ipv6",
    "05 02 00 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 01 bb",
  ],
  [
    "UDP ASSOCIATE to a name",
    Command.UDP_ASSOCIATE,
    "example.org",
    53,
    "domain",
    "05 03 00 03 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00 35",
  ],
];

const TYPES: Record<string, AddressType> = {
  ipv4: AddressType.IPV4,
  ipv6: AddressType.IPV6,
  domain: AddressType.DOMAIN,
};

Deno.test("encodeRequest() writes VER, CMD, RSV and the address when given each address type", async (t) => {
  for (const [name, command, host, port, type, bytes] of REQUESTS) {
    await t.step(name, () => {
      const destination = { type: TYPES[type]!, host, port };
      assert.equal(toHex(encodeRequest(command, destination)), bytes);
    });
  }
});

Deno.test("readRequest() reads back what encodeRequest() wrote when split in any way", async (t) => {
  for (const [name, command, host, port, type, bytes] of REQUESTS) {
    const wire = hex(bytes);
    const expected = {
      command,
      destination: { type: TYPES[type]!, host, port },
    };
    await t.step(`${name}, whole`, async () => {
      const reader = new ChunkReader(wire, "aa bb");
      assert.deepStrictEqual(await readRequest(reader), expected);
      assert.equal(reader.rest(), "aa bb");
    });
    await t.step(`${name}, byte by byte`, async () => {
      const chunks = Array.from(wire, (b) => Uint8Array.of(b));
      const reader = new ChunkReader(...chunks, "aa bb");
      assert.deepStrictEqual(await readRequest(reader), expected);
      assert.equal(reader.rest(), "aa bb");
    });
  }
});

Deno.test("readRequest() ignores RSV when it is not zero", async () => {
  const reader = new ChunkReader("05 01 ff 01 c0 00 02 01 00 50");
  assert.deepStrictEqual(await readRequest(reader), {
    command: Command.CONNECT,
    destination: { type: AddressType.IPV4, host: "192.0.2.1", port: 80 },
  });
});

Deno.test("readRequest() reads the whole address when CMD is unknown", async (t) => {
  const cases: Array<[string, string]> = [
    ["IPv4", "05 09 00 01 c0 00 02 01 00 50"],
    ["domain", "05 00 00 03 03 61 62 63 00 50"],
    [
      "IPv6",
      "05 ff 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 50",
    ],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, async () => {
      const reader = new ChunkReader(bytes);
      const request = await readRequest(reader);
      assert.equal(request.command, hex(bytes)[1]);
      assert.equal(isKnownCommand(request.command), false);
      assert.equal(reader.rest(), "");
    });
  }
});

Deno.test("readRequest() throws ProtocolError with REP 01 when VER is not 05", async () => {
  const reader = new ChunkReader("04 01 00 01 c0 00 02 01 00 50");
  await assert.rejects(readRequest(reader), (error: unknown) => {
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.reply, Reply.GENERAL_FAILURE);
    assert.equal(error.message, "Unsupported SOCKS version 0x04 in request");
    return true;
  });
});

Deno.test("readRequest() throws ProtocolError with REP 08 when ATYP is unknown", async () => {
  const reader = new ChunkReader("05 01 00 02 c0 00 02 01 00 50");
  await assert.rejects(readRequest(reader), (error: unknown) => {
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.reply, Reply.ADDRESS_TYPE_NOT_SUPPORTED);
    assert.equal(error.message, "Unsupported address type 0x02");
    return true;
  });
});

Deno.test("readRequest() throws ProtocolError with REP 01 when the domain is malformed", async (t) => {
  for (const bytes of ["05 01 00 03 00 00 50", "05 01 00 03 01 00 00 50"]) {
    await t.step(bytes, async () => {
      await assert.rejects(readRequest(new ChunkReader(bytes)), {
        name: "ProtocolError",
        reply: Reply.GENERAL_FAILURE,
      });
    });
  }
});

Deno.test("readRequest() rejects with UnexpectedEof when the stream ends early", async (t) => {
  for (
    const bytes of ["05 01 00", "05 01 00 01 c0 00 02 01 00", "05 01 00 03"]
  ) {
    await t.step(bytes, async () => {
      await assert.rejects(
        readRequest(new ChunkReader(bytes)),
        UnexpectedEofError,
      );
    });
  }
});

Deno.test("encodeReply() writes a full reply when given a bound address", async (t) => {
  await t.step("IPv4", () => {
    assert.equal(
      toHex(encodeReply(Reply.SUCCEEDED, {
        type: AddressType.IPV4,
        host: "127.0.0.1",
        port: 1080,
      })),
      "05 00 00 01 7f 00 00 01 04 38",
    );
  });
  await t.step("IPv6", () => {
    assert.equal(
      toHex(encodeReply(Reply.SUCCEEDED, {
        type: AddressType.IPV6,
        host: "::1",
        port: 65535,
      })),
      "05 00 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 ff ff",
    );
  });
  await t.step("domain", () => {
    assert.equal(
      toHex(encodeReply(Reply.SUCCEEDED, {
        type: AddressType.DOMAIN,
        host: "a.b",
        port: 1,
      })),
      "05 00 00 03 03 61 2e 62 00 01",
    );
  });
});

Deno.test("encodeReply() writes 0.0.0.0:0 when no bound address is given", async (t) => {
  for (const reply of Object.values(Reply)) {
    await t.step(`REP ${reply}`, () => {
      const bytes = encodeReply(reply);
      assert.equal(bytes.length, 10);
      assert.equal(
        toHex(bytes),
        `05 0${reply} 00 01 00 00 00 00 00 00`,
      );
    });
  }
});

Deno.test("readReply() reads back what encodeReply() wrote when given a reply", async (t) => {
  await t.step("failure with the default address", async () => {
    const reader = new ChunkReader(encodeReply(Reply.CONNECTION_REFUSED));
    assert.deepStrictEqual(await readReply(reader), {
      reply: Reply.CONNECTION_REFUSED,
      bound: { type: AddressType.IPV4, host: "0.0.0.0", port: 0 },
    });
  });
  await t.step("success with IPv6, split, data following", async () => {
    const wire = hex(
      "05 00 00 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 01 bb",
    );
    const reader = new ChunkReader(
      wire.subarray(0, 5),
      wire.subarray(5),
      "68 69",
    );
    assert.deepStrictEqual(await readReply(reader), {
      reply: Reply.SUCCEEDED,
      bound: { type: AddressType.IPV6, host: "2001:db8::1", port: 443 },
    });
    assert.equal(reader.rest(), "68 69");
  });
});

Deno.test("readReply() throws ProtocolError when VER is not 05", async () => {
  await assert.rejects(
    readReply(new ChunkReader("00 5a 00 00 00 00 00 00")),
    {
      name: "ProtocolError",
      message: "Unexpected SOCKS version 0x00 in reply",
    },
  );
});

Deno.test("isKnownCommand() is true only when CMD is 01, 02 or 03", () => {
  assert.deepStrictEqual(
    [0x00, 0x01, 0x02, 0x03, 0x04, 0xff].map(isKnownCommand),
    [false, true, true, true, false, false],
  );
});
