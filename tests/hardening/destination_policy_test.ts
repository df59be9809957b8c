/**
 * The internal-destination policy as an attacker probes it: every kind of
 * internal address, in every spelling a request can carry (IPv4, IPv6,
 * IPv4-mapped IPv6, an IPv6 transition address with an internal IPv4 inside,
 * a name that resolves inside), is refused with a full REP 02 before any
 * connection is attempted, while a transition address with a public IPv4
 * inside is dialed (through a fake dialer); the check runs after
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
import { within } from "../_helpers/wait.ts";

const REFUSED = "05 02 00 01 00 00 00 00 00 00";
const CONNECTION_REFUSED = "05 05 00 01 00 00 00 00 00 00";

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

/** A dialer that records each address it is asked for and refuses it. */
function refusingDialer(): FakeDialer & { dialed: string[] } {
  const dialed: string[] = [];
  return {
    dialed,
    dial: (hostname) => {
      dialed.push(hostname);
      return Promise.reject(new Deno.errors.ConnectionRefused("fake"));
    },
  };
}

/** ATYP 04 DST.ADDR of transition addresses with an internal IPv4 inside. */
const EMBEDDED_INTERNAL: Record<string, string> = {
  "IPv4-mapped ::ffff:10.1.2.3":
    "00 00 00 00 00 00 00 00 00 00 ff ff 0a 01 02 03",
  "IPv4-compatible ::127.0.0.1":
    "00 00 00 00 00 00 00 00 00 00 00 00 7f 00 00 01",
  "NAT64 64:ff9b::169.254.169.254":
    "00 64 ff 9b 00 00 00 00 00 00 00 00 a9 fe a9 fe",
  "NAT64 local-use 64:ff9b:1::10.1.2.3":
    "00 64 ff 9b 00 01 00 00 00 00 00 00 0a 01 02 03",
  "6to4 2002:c0a8:101::1 (192.168.1.1)":
    "20 02 c0 a8 01 01 00 00 00 00 00 00 00 00 00 01",
  "Teredo client 127.0.0.1": "20 01 00 00 cb 00 71 05 80 00 63 bf 80 ff ff fe",
  "site-local fec0::1": "fe c0 00 00 00 00 00 00 00 00 00 00 00 00 00 01",
};

/** The same with a public IPv4 inside, and the literal the server dials. */
const EMBEDDED_PUBLIC: Record<string, [string, string]> = {
  "IPv4-mapped ::ffff:192.0.2.1": [
    "00 00 00 00 00 00 00 00 00 00 ff ff c0 00 02 01",
    "192.0.2.1",
  ],
  "IPv4-compatible ::192.0.2.1": [
    "00 00 00 00 00 00 00 00 00 00 00 00 c0 00 02 01",
    "::c000:201",
  ],
  "NAT64 64:ff9b::192.0.2.1": [
    "00 64 ff 9b 00 00 00 00 00 00 00 00 c0 00 02 01",
    "64:ff9b::c000:201",
  ],
  "6to4 2002:c000:201::1": [
    "20 02 c0 00 02 01 00 00 00 00 00 00 00 00 00 01",
    "2002:c000:201::1",
  ],
  "Teredo client 192.0.2.1, server 10.0.0.1": [
    "20 01 00 00 0a 00 00 01 80 00 63 bf 3f ff fd fe",
    "2001:0:a00:1:8000:63bf:3fff:fdfe",
  ],
};

Deno.test("blockInternalDestinations refuses an IPv6 transition address with REP 02 before dialing when the IPv4 inside is internal", async (t) => {
  const dialer = refusingDialer();
  const names: Record<string, string[]> = {
    "nat64.test": ["64:ff9b::a9fe:a9fe"],
    "6to4.test": ["2002:a01:203::1"],
    "teredo.test": ["2001:0:cb00:7105:8000:63bf:f5fe:fdfc"],
    "compat.test": ["::a01:203"],
  };
  await using s = await startServer({
    blockInternalDestinations: true,
    network: dialingThrough(dialer),
    resolver: { resolve: (name) => Promise.resolve(names[name] ?? []) },
  });
  const requests: Array<[string, string]> = [
    ...Object.entries(EMBEDDED_INTERNAL).map(([name, v6]): [string, string] => [
      name,
      `04 ${v6} 00 50`,
    ]),
    ...Object.keys(names).map((name): [string, string] => [
      `${name} -> ${names[name]![0]}`,
      addressHex(name, 80),
    ]),
  ];
  for (const command of ["01", "02"]) {
    for (const [name, address] of requests) {
      await t.step(
        `${command === "01" ? "CONNECT" : "BIND"} ${name}`,
        async () => {
          using client = await RawClient.open(s.addr);
          await client.send(`05 01 00 05 ${command} 00 ${address}`);
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
  assert.deepEqual(dialer.dialed, []);
});

Deno.test("blockInternalDestinations dials an IPv6 transition address when the IPv4 inside is public", async (t) => {
  const dialer = refusingDialer();
  await using s = await startServer({
    blockInternalDestinations: true,
    network: dialingThrough(dialer),
    resolver: {
      resolve: (name) =>
        Promise.resolve(name === "nat64.test" ? ["64:ff9b::c000:201"] : []),
    },
  });
  const requests: Array<[string, string, string]> = [
    ...Object.entries(EMBEDDED_PUBLIC).map((
      [name, [v6, dialed]],
    ): [string, string, string] => [name, `04 ${v6} 00 50`, dialed]),
    [
      "nat64.test -> 64:ff9b::c000:201",
      addressHex("nat64.test", 80),
      "64:ff9b::c000:201",
    ],
  ];
  for (const [name, address, dialed] of requests) {
    await t.step(`CONNECT ${name}`, async () => {
      dialer.dialed.length = 0;
      using client = await RawClient.open(s.addr);
      await client.send(`05 01 00 05 01 00 ${address}`);
      assert.equal(await client.readHex(2), "05 00");
      // The policy let it through: the fake dialer was asked, and refused.
      assert.equal(
        await within(client.readHex(10), 10_000, "reply"),
        CONNECTION_REFUSED,
      );
      assert.deepEqual(dialer.dialed, [dialed]);
    });
  }
  for (const [name, address] of requests) {
    await t.step(`BIND ${name}`, async () => {
      using client = await RawClient.open(s.addr);
      await client.send(`05 01 00 05 02 00 ${address}`);
      assert.equal(await client.readHex(2), "05 00");
      // REP 00 and the listener's address (loopback, a fresh port).
      const first = await within(client.readHex(10), 10_000, "first reply");
      assert.equal(first.slice(0, 23), "05 00 00 01 7f 00 00 01");
    });
  }
});

Deno.test("blockInternalDestinations exempts a transition address when an allow block holds each internal form", async (t) => {
  const dialer = refusingDialer();
  await using s = await startServer({
    blockInternalDestinations: true,
    allowDestinations: ["10.1.0.0/16", "64:ff9b:1::/48"],
    network: dialingThrough(dialer),
  });
  const cases: Array<[string, string, string | null]> = [
    [
      "64:ff9b::10.1.2.3",
      "00 64 ff 9b 00 00 00 00 00 00 00 00 0a 01 02 03",
      "64:ff9b::a01:203",
    ],
    [
      "64:ff9b:1::10.1.2.3",
      "00 64 ff 9b 00 01 00 00 00 00 00 00 0a 01 02 03",
      "64:ff9b:1::a01:203",
    ],
    [
      "2002:a01:203::",
      "20 02 0a 01 02 03 00 00 00 00 00 00 00 00 00 00",
      "2002:a01:203::",
    ],
    [
      "Teredo client 10.1.2.3",
      "20 01 00 00 cb 00 71 05 80 00 63 bf f5 fe fd fc",
      "2001:0:cb00:7105:8000:63bf:f5fe:fdfc",
    ],
    // 10.2.2.3 is outside the IPv4 exemption; the prefix one does not cover
    // the address inside.
    [
      "64:ff9b::10.2.2.3",
      "00 64 ff 9b 00 00 00 00 00 00 00 00 0a 02 02 03",
      null,
    ],
    [
      "64:ff9b:1::10.2.2.3",
      "00 64 ff 9b 00 01 00 00 00 00 00 00 0a 02 02 03",
      null,
    ],
  ];
  for (const [name, v6, dialed] of cases) {
    await t.step(`CONNECT ${name}`, async () => {
      dialer.dialed.length = 0;
      using client = await RawClient.open(s.addr);
      await client.send(`05 01 00 05 01 00 04 ${v6} 00 50`);
      assert.equal(await client.readHex(2), "05 00");
      assert.equal(
        await within(client.readHex(10), 10_000, "reply"),
        dialed === null ? REFUSED : CONNECTION_REFUSED,
      );
      assert.deepEqual(dialer.dialed, dialed === null ? [] : [dialed]);
    });
  }
});

Deno.test("blockInternalDestinations drops a UDP datagram when the IPv4 inside its IPv6 destination is internal", async () => {
  using echo = udpEchoTarget("127.0.0.1");
  // Datagrams the policy permits reach this next ruleset, which records
  // them and refuses all but the echo target, so none leaves the host.
  const passed: string[] = [];
  await using s = await startServer({
    blockInternalDestinations: true,
    allowDestinations: ["127.0.0.1/32"],
    ruleset: {
      permits: () => true,
      permitsAddress: (_request, address) => {
        if (address === "127.0.0.1") return true;
        passed.push(address);
        return false;
      },
    },
    resolver: {
      resolve: (name) =>
        Promise.resolve(
          name === "nat64.test" ? ["64:ff9b::a00:7"] : ["64:ff9b::c000:201"],
        ),
    },
  });
  using udp = await udpAssociate({ proxy: s.addr });
  const internal = [
    "::ffff:10.1.2.3",
    "::127.0.0.2", // 127.0.0.1 is exempt here, in every form
    "64:ff9b::169.254.169.254",
    "64:ff9b:1::192.0.2.1",
    "2002:c0a8:101::1",
    "2001:0:cb00:7105:8000:63bf:f5fe:fdfc", // Teredo client 10.1.2.3
    "fec0::1",
    "nat64.test",
  ];
  const external = [
    "::192.0.2.1",
    "64:ff9b::192.0.2.1",
    "2002:c000:201::1",
    "2001:0:a00:1:8000:63bf:3fff:fdfe",
    "public.test",
  ];
  for (const host of [...internal, ...external]) {
    await udp.send(Uint8Array.of(0xbb), { host, port: 53 });
  }
  // Datagrams are handled in order: the echo coming back means every one
  // before it has been judged.
  await udp.send(Uint8Array.of(0x01), {
    host: "127.0.0.1",
    port: echo.addr.port,
  });
  const { data } = await within(udp.receive(), 10_000, "echo");
  assert.deepEqual([...data], [0x01]);
  assert.deepEqual(passed, [
    "::c000:201",
    "64:ff9b::c000:201",
    "2002:c000:201::1",
    "2001:0:a00:1:8000:63bf:3fff:fdfe",
    "64:ff9b::c000:201",
  ]);
  assert.equal(
    s.metrics.get("udp_dropped_total", "ruleset"),
    internal.length + external.length,
  );
  assert.equal(echo.senders.length, 1);
});
