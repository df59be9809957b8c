/**
 * The internal-destination policy as an attacker probes it: every kind of
 * internal address, in every spelling a request can carry (IPv4, IPv6,
 * IPv4-mapped IPv6, a name that resolves inside), is refused with a full
 * REP 02 before any connection is attempted; the check runs after
 * resolution, so a name with one internal and one external address only
 * ever reaches the external one; and UDP datagrams are checked one by one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { udpAssociate } from "../../src/mod.ts";
import { dialingThrough, type FakeDialer } from "../_helpers/fake_network.ts";
import { toSocksAddress } from "../../src/protocol/address.ts";
import { RawClient, toHex } from "../_helpers/raw_client.ts";
import { udpEchoTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { within } from "./_bounded.ts";

const REFUSED = "05 02 00 01 00 00 00 00 00 00";

function addressHex(host: string, port: number): string {
  const address = toSocksAddress(host, port);
  const name = new TextEncoder().encode(address.host);
  return address.type === 3
    ? toHex(Uint8Array.of(3, name.length, ...name, port >> 8, port & 0xff))
    : toHex(
      Uint8Array.of(
        address.type,
        ...(address.type === 1
          ? address.host.split(".").map(Number)
          : _v6(address.host)),
        port >> 8,
        port & 0xff,
      ),
    );
}

function _v6(host: string): number[] {
  const [head, tail] = host.split("::") as [string, string | undefined];
  const groups = (text: string | undefined) =>
    text
      ? text.split(":").flatMap((g) => {
        if (g.includes(".")) return g.split(".").map(Number);
        const v = parseInt(g, 16);
        return [v >> 8, v & 0xff];
      })
      : [];
  const left = groups(head);
  const right = groups(tail);
  return [
    ...left,
    ...new Array(16 - left.length - right.length).fill(0),
    ...right,
  ];
}

Deno.test("blockInternalDestinations refuses every internal destination with REP 02 before dialing", async (t) => {
  const dialed: string[] = [];
  const dialer: FakeDialer = {
    dial: (hostname) => {
      dialed.push(hostname);
      return Promise.reject(new Deno.errors.ConnectionRefused("fake"));
    },
  };
  const names: Record<string, string[]> = {
    "metadata.test": ["169.254.169.254"],
    "rebind.test": ["10.1.2.3", "fd00:ec2::254"],
    "mixed.test": ["192.168.1.1", "192.0.2.10"],
    localhost: ["127.0.0.1", "::1"],
  };
  await using s = await startServer({
    blockInternalDestinations: true,
    network: dialingThrough(dialer),
    resolver: { resolve: (name) => Promise.resolve(names[name] ?? []) },
  });
  const internal = [
    "127.0.0.1",
    "127.255.0.9",
    "0.0.0.0",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.0.1",
    "100.64.0.1",
    "169.254.169.254",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fd00:ec2::254",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "metadata.test",
    "rebind.test",
    "localhost",
  ];
  for (const command of [1, 2]) {
    for (const host of internal) {
      // For BIND, an all-zero DST.ADDR means "any peer", not a destination.
      if (command === 2 && (host === "0.0.0.0" || host === "::")) continue;
      await t.step(
        `${command === 1 ? "CONNECT" : "BIND"} ${host}`,
        async () => {
          using client = await RawClient.open(s.addr);
          await client.send(
            `05 01 00 05 0${command} 00 ${addressHex(host, 80)}`,
          );
          assert.equal(await client.readHex(2), "05 00");
          assert.equal(
            await within(client.readHex(10), 10_000, "reply"),
            REFUSED,
          );
          assert.equal(await client.closedByPeer(), true);
        },
      );
    }
  }
  assert.deepEqual(dialed, []);
  await t.step(
    "a name with an internal and an external address dials only the external one",
    async () => {
      using client = await RawClient.open(s.addr);
      await client.send(`05 01 00 05 01 00 ${addressHex("mixed.test", 80)}`);
      await client.read(2);
      // The fake dialer refuses: REP 05, after trying 192.0.2.10 alone.
      assert.equal((await client.read(10))[1], 0x05);
      assert.deepEqual(dialed, ["192.0.2.10"]);
    },
  );
});

Deno.test("blockInternalDestinations checks every UDP datagram", async () => {
  using allowed = udpEchoTarget("127.0.0.1");
  using v6 = udpEchoTarget("::1");
  const resolved: string[] = [];
  await using s = await startServer({
    blockInternalDestinations: true,
    allowDestinations: ["127.0.0.1/32"],
    resolver: {
      resolve: (name) => {
        resolved.push(name);
        return Promise.resolve(
          name === "echo.test" ? ["127.0.0.1"] : ["10.0.0.7"],
        );
      },
    },
  });
  using udp = await udpAssociate({ proxy: s.addr });
  const blocked = [
    { host: "::1", port: v6.addr.port },
    { host: "127.0.0.2", port: allowed.addr.port },
    { host: "169.254.169.254", port: 80 },
    { host: "inside.test", port: 53 },
  ];
  for (let round = 0; round < 5; round++) {
    for (const destination of blocked) {
      await udp.send(Uint8Array.of(0xbb), destination);
    }
    // Allowed ones, by address and by a name resolving to it, still pass.
    for (const host of ["127.0.0.1", "echo.test"]) {
      await udp.send(Uint8Array.of(round), { host, port: allowed.addr.port });
      const { data } = await within(udp.receive(), 10_000, "echo");
      assert.deepEqual([...data], [round]);
    }
  }
  assert.equal(
    s.metrics.get("udp_dropped_total", "ruleset"),
    5 * blocked.length,
  );
  assert.equal(v6.senders.length, 0);
  assert.equal(allowed.senders.length, 10);
  // Names are resolved once per association (cached), then checked.
  assert.deepEqual(resolved.sort(), ["echo.test", "inside.test"]);
});

Deno.test("blockInternalDestinations refuses a BIND peer from an internal address", async () => {
  await using s = await startServer({
    blockInternalDestinations: true,
    timeouts: { bind: 300 },
  });
  using client = await RawClient.open(s.addr);
  await client.send("05 01 00 05 02 00 01 00 00 00 00 00 00");
  await client.read(2);
  const first = await client.read(10);
  assert.equal(first[1], 0x00);
  // A peer on loopback is internal: closed, and waiting goes on to REP 06.
  using peer = await RawClient.open({
    hostname: "127.0.0.1",
    port: (first[8]! << 8) | first[9]!,
    transport: "tcp",
  });
  assert.equal(await peer.closedByPeer(), true);
  assert.equal(
    (await within(client.read(10), 10_000, "second reply"))[1],
    0x06,
  );
  assert.ok(s.logs.some((l) => l.msg === "bind peer refused"));
});
