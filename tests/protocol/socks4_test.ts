import assert from "node:assert/strict";
import { FrameReader } from "../../src/core/frame_reader.ts";
import { AddressType } from "../../src/protocol/constants.ts";
import {
  ProtocolError,
  UnexpectedEofError,
} from "../../src/protocol/errors.ts";
import {
  decodeSocks4Reply,
  encodeSocks4Reply,
  encodeSocks4Request,
  readSocks4Request,
  Socks4Reply,
} from "../../src/protocol/socks4.ts";
import { ChunkReader, hex, splitSource, toHex } from "./_fixtures.ts";

Deno.test("readSocks4Request() reads a SOCKS4 CONNECT with its user id", async () => {
  const reader = new ChunkReader("04 01 00 50 7f 00 00 01 61 6c 69 63 65 00");
  assert.deepEqual(await readSocks4Request(reader), {
    command: 1,
    destination: { type: AddressType.IPV4, host: "127.0.0.1", port: 80 },
    userId: "alice",
    socks4a: false,
  });
  assert.equal(reader.rest(), "");
});

Deno.test("readSocks4Request() reads a SOCKS4A name after 0.0.0.x and leaves what follows", async () => {
  const reader = new ChunkReader(
    "04 02 1f 90 00 00 00 07 00 6c 6f 63 61 6c 68 6f 73 74 00 ff",
  );
  assert.deepEqual(await readSocks4Request(reader), {
    command: 2,
    destination: { type: AddressType.DOMAIN, host: "localhost", port: 8080 },
    userId: "",
    socks4a: true,
  });
  assert.equal(reader.rest(), "ff");
});

Deno.test("readSocks4Request() treats 0.0.0.0 as an address, not SOCKS4A", async () => {
  const request = await readSocks4Request(
    new ChunkReader("04 02 00 00 00 00 00 00 00"),
  );
  assert.equal(request.socks4a, false);
  assert.equal(request.destination.host, "0.0.0.0");
});

Deno.test("readSocks4Request() gives the same request whatever the split", async () => {
  const bytes = encodeSocks4Request(
    1,
    { type: AddressType.DOMAIN, host: "example.test", port: 443 },
    "bob",
  );
  for (const size of [1, 2, 3, 7, bytes.length]) {
    const request = await readSocks4Request(
      new FrameReader(splitSource(bytes, size)),
    );
    assert.deepEqual(request.destination, {
      type: AddressType.DOMAIN,
      host: "example.test",
      port: 443,
    }, `split ${size}`);
    assert.equal(request.userId, "bob");
  }
});

Deno.test("encodeSocks4Request() and readSocks4Request() round-trip IPv4 and names", async () => {
  assert.equal(
    toHex(encodeSocks4Request(1, {
      type: AddressType.IPV4,
      host: "10.1.2.3",
      port: 0x1234,
    }, "u")),
    "04 01 12 34 0a 01 02 03 75 00",
  );
  assert.equal(
    toHex(encodeSocks4Request(1, {
      type: AddressType.DOMAIN,
      host: "a.b",
      port: 80,
    })),
    "04 01 00 50 00 00 00 01 00 61 2e 62 00",
  );
  const back = await readSocks4Request(
    new ChunkReader(
      encodeSocks4Request(2, {
        type: AddressType.IPV4,
        host: "192.0.2.9",
        port: 21,
      }, "x"),
    ),
  );
  assert.deepEqual(back.destination, {
    type: AddressType.IPV4,
    host: "192.0.2.9",
    port: 21,
  });
});

Deno.test("readSocks4Request() refuses a user id or name over 255 bytes and an empty name", async () => {
  const long = "61 ".repeat(256);
  await assert.rejects(
    readSocks4Request(new ChunkReader(`04 01 00 50 7f 00 00 01 ${long} 00`)),
    ProtocolError,
  );
  await assert.rejects(
    readSocks4Request(
      new ChunkReader(`04 01 00 50 00 00 00 01 00 ${long} 00`),
    ),
    ProtocolError,
  );
  await assert.rejects(
    readSocks4Request(new ChunkReader("04 01 00 50 00 00 00 01 00 00")),
    /Empty SOCKS4A host name/,
  );
  // 255 bytes is the limit, not past it.
  const ok = await readSocks4Request(
    new ChunkReader(`04 01 00 50 7f 00 00 01 ${"61 ".repeat(255)} 00`),
  );
  assert.equal(ok.userId.length, 255);
});

Deno.test("readSocks4Request() throws UnexpectedEofError on a truncated request", async () => {
  await assert.rejects(
    readSocks4Request(new ChunkReader("04 01 00 50 7f 00 00 01 61")),
    UnexpectedEofError,
  );
  await assert.rejects(
    readSocks4Request(new ChunkReader("05 01 00 50 7f 00 00 01 00")),
    /Expected SOCKS version 0x04, got 0x05/,
  );
});

Deno.test("encodeSocks4Reply() writes VN 0, the code, DSTPORT and DSTIP", () => {
  assert.equal(
    toHex(
      encodeSocks4Reply(Socks4Reply.GRANTED, {
        host: "127.0.0.1",
        port: 0x1f90,
      }),
    ),
    "00 5a 1f 90 7f 00 00 01",
  );
  assert.equal(
    toHex(encodeSocks4Reply(Socks4Reply.REJECTED)),
    "00 5b 00 00 00 00 00 00",
  );
  assert.equal(
    toHex(encodeSocks4Reply(Socks4Reply.NO_IDENTD)),
    "00 5c 00 00 00 00 00 00",
  );
  assert.equal(
    toHex(encodeSocks4Reply(Socks4Reply.IDENTD_MISMATCH)),
    "00 5d 00 00 00 00 00 00",
  );
  // IPv4-mapped IPv6 is sent as IPv4; other IPv6 cannot be carried.
  assert.equal(
    toHex(
      encodeSocks4Reply(Socks4Reply.GRANTED, {
        host: "::ffff:10.0.0.1",
        port: 1,
      }),
    ),
    "00 5a 00 01 0a 00 00 01",
  );
  assert.equal(
    toHex(encodeSocks4Reply(Socks4Reply.GRANTED, { host: "::1", port: 9 })),
    "00 5a 00 00 00 00 00 00",
  );
});

Deno.test("decodeSocks4Reply() reads back what encodeSocks4Reply() wrote", () => {
  assert.deepEqual(
    decodeSocks4Reply(
      encodeSocks4Reply(Socks4Reply.GRANTED, { host: "10.9.8.7", port: 65535 }),
    ),
    { code: 0x5a, port: 65535, host: "10.9.8.7" },
  );
  assert.throws(() => decodeSocks4Reply(hex("04 5a 00 00 00 00 00 00")));
});
