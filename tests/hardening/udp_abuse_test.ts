/**
 * UDP ASSOCIATE under abuse: floods of malformed datagrams, datagrams from
 * foreign sources (to the relay and to its outbound sockets) alongside
 * legitimate traffic, and answers too large to wrap. Each bad datagram is
 * dropped and counted by reason; the good ones all arrive intact.
 *
 * Datagrams are sent in small batches, each followed by a round trip on the
 * same socket, so the kernel never drops one for a full buffer and the
 * counts are exact.
 *
 * @module
 */

import assert from "node:assert/strict";
import { udpAssociate } from "../../src/mod.ts";
import { toSocksAddress } from "../../src/protocol/address.ts";
import {
  decodeUdpDatagram,
  encodeUdpDatagram,
} from "../../src/protocol/udp_header.ts";
import { payload } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { closeAll } from "./_bounded.ts";
import { eventually, within } from "../_helpers/wait.ts";

/** A UDP server that records what it got and answers via `answer`. */
function udpServer(answer: (data: Uint8Array) => Uint8Array) {
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const received: Uint8Array[] = [];
  const senders: Deno.NetAddr[] = [];
  const loop = (async () => {
    const buffer = new Uint8Array(65_536);
    for (;;) {
      try {
        const [data, from] = await socket.receive(buffer);
        received.push(data.slice());
        senders.push(from as Deno.NetAddr);
        await socket.send(answer(data), from);
      } catch {
        return;
      }
    }
  })();
  return {
    addr: socket.addr as Deno.NetAddr,
    received,
    senders,
    async [Symbol.asyncDispose]() {
      socket.close();
      await loop;
    },
  };
}

function udpSocket(): Deno.DatagramConn {
  return Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
}

/** Receives one datagram from `from`'s port, with a hang bound. */
async function receiveFrom(
  socket: { receive(buffer: Uint8Array): Promise<[Uint8Array, unknown]> },
  port: number,
): Promise<Uint8Array> {
  const buffer = new Uint8Array(65_536);
  for (let i = 0; i < 100; i++) {
    const [data, addr] = await within(
      socket.receive(buffer),
      10_000,
      "datagram",
    );
    if ((addr as Deno.NetAddr).port === port) return data.slice();
  }
  throw new Error("Only datagrams from elsewhere");
}

/** Malformed headers of every kind, with the reason each is dropped for. */
function badDatagrams(
  echoPort: number,
  round: number,
): Array<[string, Uint8Array]> {
  const good = encodeUdpDatagram(
    toSocksAddress("127.0.0.1", echoPort),
    payload(20, round + 1),
  );
  const fragment = good.slice();
  fragment[2] = 1 + (round % 127);
  const rsv = good.slice();
  rsv[round % 2] = 0xff;
  const port = [echoPort >> 8, echoPort & 0xff];
  return [
    ["malformed", new Uint8Array(0)],
    ["malformed", Uint8Array.of(0, 0, 0)],
    ["malformed", rsv],
    ["malformed", Uint8Array.of(0, 0, 0, 7, 1, 2, 3, 4, ...port)], // ATYP 07
    ["malformed", Uint8Array.of(0, 0, 0, 1, 127, 0)], // truncated IPv4
    ["malformed", Uint8Array.of(0, 0, 0, 4, ...new Uint8Array(10))], // short IPv6
    ["malformed", Uint8Array.of(0, 0, 0, 3, 0, ...port)], // empty name
    ["malformed", Uint8Array.of(0, 0, 0, 3, 200, 0x61, 0x62)], // name past end
    ["malformed", Uint8Array.of(0, 0, 0, 3, 2, 0xc3, 0x28, ...port, 1)], // bad UTF-8
    ["malformed", Uint8Array.of(0, 0, 0, 3, 2, 0x61, 0x0a, ...port, 1)], // control
    ["malformed", payload(64, round + 100)],
    ["fragment", fragment],
  ];
}

Deno.test("handleUdpAssociate() drops and counts floods of malformed datagrams and relays every good one", async () => {
  await using echo = udpServer((data) => data);
  await using s = await startServer();
  using udp = await udpAssociate({ proxy: s.addr });
  const relay = {
    transport: "udp" as const,
    hostname: udp.relay.host,
    port: udp.relay.port,
  };
  const expected = new Map<string, number>();
  const ROUNDS = 40;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [reason, datagram] of badDatagrams(echo.addr.port, round)) {
      await udp.socket.send(datagram, relay);
      expected.set(reason, (expected.get(reason) ?? 0) + 1);
    }
    const data = payload(1000 + round, 5000 + round);
    await udp.send(data, { host: "127.0.0.1", port: echo.addr.port });
    const answer = decodeUdpDatagram(
      await receiveFrom(udp.socket, udp.relay.port),
    );
    assert.deepEqual(answer.data, data);
    assert.deepEqual(
      answer.address,
      toSocksAddress("127.0.0.1", echo.addr.port),
    );
  }
  for (const [reason, count] of expected) {
    assert.equal(s.metrics.get("udp_dropped_total", reason), count, reason);
  }
  // Nothing malformed reached the destination: only the good payloads.
  assert.equal(echo.received.length, ROUNDS);
  assert.equal(s.metrics.get("udp_datagrams_total", "up"), ROUNDS);
  assert.equal(s.metrics.get("udp_datagrams_total", "down"), ROUNDS);
});

Deno.test("handleUdpAssociate() drops datagrams from foreign sources while several associations relay", async () => {
  await using echo = udpServer((data) => data);
  await using s = await startServer();
  const ASSOCIATIONS = 4;
  const ROUNDS = 25;
  const BATCH = 8;
  const associations = await Promise.all(
    Array.from({ length: ASSOCIATIONS }, () => udpAssociate({ proxy: s.addr })),
  );
  const strangers = Array.from({ length: 3 }, udpSocket);
  try {
    const foreign = new TextEncoder().encode("foreign");
    let foreignSent = 0;
    let unsolicitedSent = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Strangers on the client's own IP but other ports aim at every relay
      // (a well-formed datagram to the echo target) and, once the outbound
      // sockets are known, at those too (as if they were the destination).
      const outbound = new Set(echo.senders.map((a) => a.port));
      for (const stranger of strangers) {
        for (const udp of associations) {
          for (let i = 0; i < BATCH / 4; i++) {
            await stranger.send(
              encodeUdpDatagram(
                toSocksAddress("127.0.0.1", echo.addr.port),
                foreign,
              ),
              { transport: "udp", hostname: "127.0.0.1", port: udp.relay.port },
            );
            foreignSent++;
          }
        }
        for (const port of outbound) {
          await stranger.send(foreign, {
            transport: "udp",
            hostname: "127.0.0.1",
            port,
          });
          unsolicitedSent++;
        }
      }
      // Legitimate round trips on every association, behind the strangers'
      // datagrams in each relay's queue.
      await Promise.all(associations.map(async (udp, i) => {
        const data = payload(500, round * 100 + i + 1);
        await udp.send(data, { host: "127.0.0.1", port: echo.addr.port });
        const answer = decodeUdpDatagram(
          await receiveFrom(udp.socket, udp.relay.port),
        );
        assert.deepEqual(answer.data, data);
      }));
    }
    // One more round trip each, so the last unsolicited datagrams (which go
    // to the outbound sockets, not the relays) have been handled as well.
    await Promise.all(associations.map(async (udp) => {
      await udp.send(Uint8Array.of(1), {
        host: "127.0.0.1",
        port: echo.addr.port,
      });
      await receiveFrom(udp.socket, udp.relay.port);
    }));
    assert.equal(
      s.metrics.get("udp_dropped_total", "foreign_source"),
      foreignSent,
    );
    await eventually(
      () =>
        s.metrics.get("udp_dropped_total", "unsolicited") === unsolicitedSent,
      "unsolicited datagrams counted",
    );
    // The strangers got nothing through: the destination only ever saw the
    // associations' own payloads, and the strangers' sockets stayed empty.
    assert.equal(echo.received.length, ASSOCIATIONS * (ROUNDS + 1));
    assert.equal(
      echo.received.some((d) => new TextDecoder().decode(d) === "foreign"),
      false,
    );
    assert.equal(
      s.metrics.get("udp_datagrams_total", "up"),
      ASSOCIATIONS * (ROUNDS + 1),
    );
  } finally {
    closeAll(strangers);
    closeAll(associations);
  }
  await eventually(() => s.server.activeSessions === 0, "associations ended");
  assert.equal(s.metrics.get("udp_associations_active"), 0);
});

Deno.test("handleUdpAssociate() drops answers too large to wrap and keeps the association working", async () => {
  // The largest answer that still fits an IPv4 datagram once the 10-byte
  // header is added, and one three bytes too large.
  const FITS = 65_507 - 10;
  await using amplifier = udpServer((data) =>
    payload(data[0] === 1 ? FITS + 3 : FITS, 9)
  );
  await using s = await startServer();
  using udp = await udpAssociate({ proxy: s.addr });
  const to = { host: "127.0.0.1", port: amplifier.addr.port };
  for (let i = 0; i < 5; i++) {
    await udp.send(Uint8Array.of(1), to); // answered with an oversized reply
    await udp.send(Uint8Array.of(0), to); // answered with one that fits
    const answer = decodeUdpDatagram(
      await receiveFrom(udp.socket, udp.relay.port),
    );
    assert.equal(answer.data.length, FITS);
    assert.deepEqual(answer.data, payload(FITS, 9));
  }
  assert.equal(s.metrics.get("udp_dropped_total", "oversized"), 5);
  assert.equal(s.metrics.get("udp_datagrams_total", "down"), 5);
  assert.equal(amplifier.received.length, 10);
});
