import assert from "node:assert/strict";
import { udpAssociate } from "../../src/mod.ts";
import { encodeUdpDatagram } from "../../src/protocol/udp_header.ts";
import { toSocksAddress } from "../../src/protocol/address.ts";
import { hex, ipv4Hex, RawClient, toHex } from "../_helpers/raw_client.ts";
import { udpEchoTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { settleWithin } from "../_helpers/wait.ts";

/** Receives one datagram or `null` after `ms`. */
async function receiveWithin(
  socket: { receive(buffer: Uint8Array): Promise<[Uint8Array, unknown]> },
  ms: number,
): Promise<Uint8Array | null> {
  const received = socket.receive(new Uint8Array(65_536)).then(([data]) =>
    data.slice()
  );
  return (await settleWithin(received, ms)) ?? null;
}

Deno.test("handleUdpAssociate() relays to IPv4, IPv6 and domain destinations with headers", async (t) => {
  using v4 = udpEchoTarget("127.0.0.1");
  using v6 = udpEchoTarget("::1");
  await using s = await startServer();
  using udp = await udpAssociate({ proxy: s.addr });
  assert.equal(udp.relay.host, "127.0.0.1");

  await t.step("IPv4", async () => {
    await udp.send(hex("01 02 03"), { host: "127.0.0.1", port: v4.addr.port });
    const { data, from } = await udp.receive();
    assert.equal(toHex(data), "01 02 03");
    assert.deepEqual(from, toSocksAddress("127.0.0.1", v4.addr.port));
  });
  await t.step("IPv6", async () => {
    await udp.send(hex("04 05"), { host: "::1", port: v6.addr.port });
    const { data, from } = await udp.receive();
    assert.equal(toHex(data), "04 05");
    assert.deepEqual(from, toSocksAddress("::1", v6.addr.port));
  });
  await t.step(
    "domain (the answer names the address that sent it)",
    async () => {
      await udp.send(hex("06"), { host: "localhost", port: v4.addr.port });
      const { data, from } = await udp.receive();
      assert.equal(toHex(data), "06");
      assert.deepEqual(from, toSocksAddress("127.0.0.1", v4.addr.port));
    },
  );
  assert.equal(s.metrics.get("udp_datagrams_total", "up"), 3);
  assert.equal(s.metrics.get("udp_datagrams_total", "down"), 3);
});

Deno.test("handleUdpAssociate() replies with the relay address in exact bytes", async () => {
  await using s = await startServer();
  using client = await RawClient.open(s.addr);
  await client.send("05 01 00 05 03 00 01 00 00 00 00 00 00");
  assert.equal(await client.readHex(2), "05 00");
  const reply = await client.read(10);
  assert.equal(toHex(reply.subarray(0, 8)), "05 00 00 01 7f 00 00 01");
  assert.notEqual((reply[8]! << 8) | reply[9]!, 0);
});

Deno.test("handleUdpAssociate() drops fragments, malformed datagrams and other senders", async () => {
  using echo = udpEchoTarget();
  await using s = await startServer();
  using udp = await udpAssociate({ proxy: s.addr });
  const relay = {
    transport: "udp" as const,
    hostname: udp.relay.host,
    port: udp.relay.port,
  };
  const header = encodeUdpDatagram(
    toSocksAddress("127.0.0.1", echo.addr.port),
    hex("aa"),
  );

  const fragment = header.slice();
  fragment[2] = 1;
  await udp.socket.send(fragment, relay);
  await udp.socket.send(hex("00 00 00 07 01 02"), relay); // unknown ATYP
  await udp.socket.send(hex("00"), relay); // shorter than a header
  const stranger = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  await stranger.send(header, relay);
  stranger.close();
  // A good datagram last: once its echo is back, the others were handled.
  await udp.send(hex("bb"), { host: "127.0.0.1", port: echo.addr.port });
  const { data } = await udp.receive();
  assert.equal(toHex(data), "bb");
  assert.equal(echo.senders.length, 1);
  assert.equal(s.metrics.get("udp_dropped_total", "fragment"), 1);
  assert.equal(s.metrics.get("udp_dropped_total", "malformed"), 2);
  assert.equal(s.metrics.get("udp_dropped_total", "foreign_source"), 1);
});

Deno.test("handleUdpAssociate() ends the association when its TCP connection closes", async () => {
  using echo = udpEchoTarget();
  await using s = await startServer();
  const udp = await udpAssociate({ proxy: s.addr });
  await udp.send(hex("01"), { host: "127.0.0.1", port: echo.addr.port });
  await udp.receive();
  udp.control.close();
  await s.sessions(1);
  await udp.send(hex("02"), { host: "127.0.0.1", port: echo.addr.port });
  assert.equal(await receiveWithin(udp.socket, 200), null);
  assert.equal(echo.senders.length, 1);
  udp.close();
});

Deno.test("handleUdpAssociate() accepts datagrams only from the port the request named", async () => {
  using echo = udpEchoTarget();
  await using s = await startServer();
  const named = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const other = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  using _sockets = { [Symbol.dispose]: () => (named.close(), other.close()) };
  using client = await RawClient.open(s.addr);
  await client.send(`05 01 00 05 03 00 ${ipv4Hex(named.addr as Deno.NetAddr)}`);
  await client.read(2);
  const reply = await client.read(10);
  const relay = {
    transport: "udp" as const,
    hostname: "127.0.0.1",
    port: (reply[8]! << 8) | reply[9]!,
  };
  const datagram = encodeUdpDatagram(
    toSocksAddress("127.0.0.1", echo.addr.port),
    hex("cc"),
  );
  await other.send(datagram, relay);
  await named.send(datagram, relay);
  const answer = await receiveWithin(named, 2000);
  assert.ok(answer);
  assert.equal(toHex(answer.subarray(answer.length - 1)), "cc");
  assert.equal(await receiveWithin(other, 100), null);
  assert.equal(s.metrics.get("udp_dropped_total", "foreign_source"), 1);
});

Deno.test("handleUdpAssociate() ends an association idle past the UDP timeout", async () => {
  await using s = await startServer({ timeouts: { udp: 150 } });
  using udp = await udpAssociate({ proxy: s.addr });
  const client = new RawClient(udp.control);
  assert.equal(await client.closedByPeer(), true);
  const [line] = await s.sessions(1);
  assert.equal(line!.command, "udp_associate");
});
