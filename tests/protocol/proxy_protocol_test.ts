import assert from "node:assert/strict";
import { FrameReader } from "../../src/core/frame_reader.ts";
import {
  ProtocolError,
  UnexpectedEofError,
} from "../../src/protocol/errors.ts";
import {
  encodeProxyHeaderV1,
  encodeProxyHeaderV2,
  PROXY_V2_MAX_PAYLOAD,
  readProxyHeader,
} from "../../src/protocol/proxy_protocol.ts";
import { ChunkReader, hex, splitSource, toHex } from "./_fixtures.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const SIG = "0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a";

Deno.test("readProxyHeader() reads a version 1 TCP4 line and leaves the client's bytes", async () => {
  const reader = new ChunkReader(
    enc("PROXY TCP4 192.0.2.7 10.0.0.1 56324 1080\r\n"),
    "05 01 00",
  );
  assert.deepEqual(await readProxyHeader(reader), {
    version: 1,
    addresses: {
      source: { hostname: "192.0.2.7", port: 56324 },
      destination: { hostname: "10.0.0.1", port: 1080 },
    },
  });
  assert.equal(reader.rest(), "05 01 00");
});

Deno.test("readProxyHeader() reads version 1 TCP6 and UNKNOWN lines", async () => {
  assert.deepEqual(
    await readProxyHeader(
      new ChunkReader(enc("PROXY TCP6 2001:db8::1 ::1 1 65535\r\n")),
    ),
    {
      version: 1,
      addresses: {
        source: { hostname: "2001:db8::1", port: 1 },
        destination: { hostname: "::1", port: 65535 },
      },
    },
  );
  assert.deepEqual(
    await readProxyHeader(
      new ChunkReader(enc("PROXY UNKNOWN ffff::1 ::1 1 2\r\n")),
    ),
    { version: 1, addresses: null },
  );
});

Deno.test("readProxyHeader() refuses malformed version 1 lines", async () => {
  for (
    const bad of [
      "PROXY TCP4 192.0.2.7 10.0.0.1 56324 1080\n",
      "PROXY TCP4 192.0.2.7 10.0.0.1 56324\r\n",
      "PROXY TCP4 192.0.2.7  10.0.0.1 1 2\r\n",
      "PROXY TCP4 ::1 ::1 1 2\r\n",
      "PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n",
      "PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n",
      "PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n",
      "PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n",
      "PROXI TCP4 1.2.3.4 1.2.3.4 1 2\r\n",
      `PROXY UNKNOWN ${"x".repeat(100)}\r\n`,
    ]
  ) {
    await assert.rejects(
      readProxyHeader(new ChunkReader(enc(bad))),
      ProtocolError,
      JSON.stringify(bad),
    );
  }
  await assert.rejects(
    readProxyHeader(new ChunkReader("05 01 00")),
    /first byte 0x05/,
  );
});

Deno.test("readProxyHeader() reads version 2 PROXY headers for IPv4 and IPv6", async () => {
  const v4 = `${SIG} 21 11 00 0c c0 00 02 07 0a 00 00 01 dc 04 04 38`;
  const reader = new ChunkReader(v4, "05");
  assert.deepEqual(await readProxyHeader(reader), {
    version: 2,
    addresses: {
      source: { hostname: "192.0.2.7", port: 56324 },
      destination: { hostname: "10.0.0.1", port: 1080 },
    },
  });
  assert.equal(reader.rest(), "05");
  const v6 = `${SIG} 21 21 00 24 20 01 0d b8 ${"00 ".repeat(11)}01 ${
    "00 ".repeat(15)
  }01 00 50 01 bb`;
  assert.deepEqual(await readProxyHeader(new ChunkReader(v6)), {
    version: 2,
    addresses: {
      source: { hostname: "2001:db8::1", port: 80 },
      destination: { hostname: "::1", port: 443 },
    },
  });
});

Deno.test("readProxyHeader() skips version 2 TLVs and checks their lengths", async () => {
  const tlvs: Array<[number, Uint8Array]> = [
    [0x04, new Uint8Array(0)],
    [0x05, enc("unique-id-123")],
    [0xe0, new Uint8Array(300)],
  ];
  const bytes = encodeProxyHeaderV2({
    source: { hostname: "198.51.100.3", port: 4000 },
    destination: { hostname: "127.0.0.1", port: 1080 },
  }, tlvs);
  const reader = new ChunkReader(bytes, "aa");
  assert.deepEqual((await readProxyHeader(reader)).addresses?.source, {
    hostname: "198.51.100.3",
    port: 4000,
  });
  assert.equal(reader.rest(), "aa");
  // One TLV byte short: the last TLV claims more than there is.
  const broken = bytes.slice(0, -1);
  broken[15] = broken[15]! - 1;
  await assert.rejects(readProxyHeader(new ChunkReader(broken)), /TLV length/);
});

Deno.test("readProxyHeader() reads version 2 LOCAL, UNSPEC and UNIX as no address", async () => {
  assert.deepEqual(
    await readProxyHeader(new ChunkReader(`${SIG} 20 00 00 00`)),
    { version: 2, addresses: null },
  );
  // LOCAL with an address block: the block is skipped.
  const local = new ChunkReader(`${SIG} 20 11 00 0c ${"01 ".repeat(12)} 05`);
  assert.deepEqual(await readProxyHeader(local), {
    version: 2,
    addresses: null,
  });
  assert.equal(local.rest(), "05");
  assert.deepEqual(
    await readProxyHeader(new ChunkReader(`${SIG} 21 00 00 00`)),
    { version: 2, addresses: null },
  );
  assert.deepEqual(
    await readProxyHeader(
      new ChunkReader(`${SIG} 21 31 00 d8 ${"00 ".repeat(216)}`),
    ),
    { version: 2, addresses: null },
  );
});

Deno.test("readProxyHeader() refuses broken version 2 headers", async () => {
  const cases = [
    `0d 0a 0d 0a 00 0d 0a 51 55 49 54 0b 21 11 00 0c ${"00 ".repeat(12)}`,
    `${SIG} 11 11 00 0c ${"00 ".repeat(12)}`, // version 1 nibble
    `${SIG} 22 11 00 0c ${"00 ".repeat(12)}`, // command 2
    `${SIG} 21 12 00 0c ${"00 ".repeat(12)}`, // UDP
    `${SIG} 21 41 00 0c ${"00 ".repeat(12)}`, // family 4
    `${SIG} 21 11 00 0b ${"00 ".repeat(11)}`, // short address block
    `${SIG} 21 11 00 0e ${"00 ".repeat(14)}`, // 2 bytes: no TLV fits
  ];
  for (const bad of cases) {
    await assert.rejects(
      readProxyHeader(new ChunkReader(bad)),
      ProtocolError,
      bad,
    );
  }
  const big = PROXY_V2_MAX_PAYLOAD + 1;
  await assert.rejects(
    readProxyHeader(
      new ChunkReader(
        `${SIG} 21 11 ${(big >> 8).toString(16).padStart(2, "0")} ${
          (big & 0xff).toString(16).padStart(2, "0")
        }`,
      ),
    ),
    /length 1025/,
  );
  await assert.rejects(
    readProxyHeader(new ChunkReader(`${SIG} 21 11 00 0c 00`)),
    UnexpectedEofError,
  );
});

Deno.test("readProxyHeader() gives the same header whatever the split, both versions", async () => {
  const addresses = {
    source: { hostname: "203.0.113.9", port: 33333 },
    destination: { hostname: "127.0.0.1", port: 1080 },
  };
  for (
    const bytes of [
      encodeProxyHeaderV1(addresses),
      encodeProxyHeaderV2(addresses, [[0x01, enc("h2")]]),
    ]
  ) {
    for (const split of [1, 2, 5, bytes.length]) {
      const header = await readProxyHeader(
        new FrameReader(splitSource(bytes, split)),
      );
      assert.deepEqual(header.addresses, addresses, `split ${split}`);
    }
  }
});

Deno.test("encodeProxyHeaderV1() and encodeProxyHeaderV2() write the specification's bytes", () => {
  const addresses = {
    source: { hostname: "192.0.2.7", port: 56324 },
    destination: { hostname: "10.0.0.1", port: 1080 },
  };
  assert.equal(
    new TextDecoder().decode(encodeProxyHeaderV1(addresses)),
    "PROXY TCP4 192.0.2.7 10.0.0.1 56324 1080\r\n",
  );
  assert.equal(
    new TextDecoder().decode(encodeProxyHeaderV1(null)),
    "PROXY UNKNOWN\r\n",
  );
  assert.equal(
    toHex(encodeProxyHeaderV2(addresses)),
    toHex(hex(`${SIG} 21 11 00 0c c0 00 02 07 0a 00 00 01 dc 04 04 38`)),
  );
  assert.equal(
    toHex(encodeProxyHeaderV2(null)),
    toHex(hex(`${SIG} 20 00 00 00`)),
  );
});
