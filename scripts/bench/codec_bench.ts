/**
 * Micro-benchmarks of the pure SOCKS5 codecs in `src/protocol/`: the
 * per-session parsing and encoding cost, separated from sockets and the
 * event loop.
 *
 * Run: `deno bench scripts/bench/codec_bench.ts` (no permissions needed).
 *
 * @module
 */

import {
  decodeAddress,
  encodeAddress,
  toSocksAddress,
} from "../../src/protocol/address.ts";
import { Command, Reply } from "../../src/protocol/constants.ts";
import { readGreeting } from "../../src/protocol/greeting.ts";
import { formatIPv6, parseIPv6 } from "../../src/protocol/ip.ts";
import type { ExactReader } from "../../src/protocol/reader.ts";
import {
  encodeReply,
  encodeRequest,
  readRequest,
} from "../../src/protocol/request.ts";
import {
  decodeUdpDatagram,
  encodeUdpDatagram,
} from "../../src/protocol/udp_header.ts";
import {
  encodeUserPassRequest,
  readUserPassRequest,
} from "../../src/protocol/userpass.ts";

/**
 * An {@link ExactReader} over fixed bytes, rewound before each iteration so
 * the benchmark measures decoding, not setup.
 */
class _BytesReader implements ExactReader {
  #bytes: Uint8Array;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  rewind(): this {
    this.#offset = 0;
    return this;
  }

  readExact(length: number): Promise<Uint8Array> {
    const end = this.#offset + length;
    if (end > this.#bytes.length) {
      return Promise.reject(
        new Deno.errors.UnexpectedEof(`Wanted ${length} bytes`),
      );
    }
    const out = this.#bytes.subarray(this.#offset, end);
    this.#offset = end;
    return Promise.resolve(out);
  }
}

const ipv4 = toSocksAddress("127.0.0.1", 8080);
const ipv6 = toSocksAddress("2001:db8::1", 443);
const domain = toSocksAddress("www.example.com", 443);

const greeting = new _BytesReader(Uint8Array.of(0x05, 0x02, 0x00, 0x02));
const requestV4 = new _BytesReader(encodeRequest(Command.CONNECT, ipv4));
const requestV6 = new _BytesReader(encodeRequest(Command.CONNECT, ipv6));
const requestDomain = new _BytesReader(encodeRequest(Command.CONNECT, domain));
const userPass = new _BytesReader(encodeUserPassRequest("bench", "secret"));
const encodedDomain = encodeAddress(domain);
const datagram = encodeUdpDatagram(ipv4, new Uint8Array(1024));
const payload = new Uint8Array(1024);

Deno.bench("readGreeting: 2 methods", { group: "handshake" }, async () => {
  await readGreeting(greeting.rewind());
});

Deno.bench(
  "readUserPassRequest: 5 + 6 bytes",
  { group: "handshake" },
  async () => {
    await readUserPassRequest(userPass.rewind());
  },
);

Deno.bench(
  "readRequest: CONNECT IPv4",
  { group: "request", baseline: true },
  async () => {
    await readRequest(requestV4.rewind());
  },
);

Deno.bench("readRequest: CONNECT IPv6", { group: "request" }, async () => {
  await readRequest(requestV6.rewind());
});

Deno.bench("readRequest: CONNECT domain", { group: "request" }, async () => {
  await readRequest(requestDomain.rewind());
});

Deno.bench(
  "encodeReply: succeeded, IPv4",
  { group: "reply", baseline: true },
  () => {
    encodeReply(Reply.SUCCEEDED, ipv4);
  },
);

Deno.bench("encodeReply: succeeded, IPv6", { group: "reply" }, () => {
  encodeReply(Reply.SUCCEEDED, ipv6);
});

Deno.bench("decodeAddress: domain", { group: "address" }, () => {
  decodeAddress(encodedDomain, 0);
});

Deno.bench("parseIPv6 + formatIPv6", { group: "address" }, () => {
  const bytes = parseIPv6("2001:db8:0:0:1::1");
  if (bytes) formatIPv6(bytes);
});

Deno.bench("decodeUdpDatagram: IPv4, 1 KiB", { group: "udp" }, () => {
  decodeUdpDatagram(datagram);
});

Deno.bench("encodeUdpDatagram: IPv4, 1 KiB", { group: "udp" }, () => {
  encodeUdpDatagram(ipv4, payload);
});
