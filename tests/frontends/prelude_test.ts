import assert from "node:assert/strict";
import type { RuleRequest } from "../../src/policy/ruleset.ts";
import {
  encodeProxyHeaderV1,
  encodeProxyHeaderV2,
} from "../../src/protocol/proxy_protocol.ts";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { echoTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";

const CLIENT = { hostname: "203.0.113.9", port: 40001 };
const SERVER = { hostname: "127.0.0.1", port: 1080 };

/** A SOCKS5 no-auth CONNECT, pipelined. */
function socks5Connect(addr: { hostname: string; port: number }): string {
  return `05 01 00 05 01 00 ${ipv4Hex(addr)}`;
}

Deno.test("a trusted balancer's PROXY header names the client for rules and the access log", async (t) => {
  await using target = echoTarget();
  const seen: RuleRequest[] = [];
  await using s = await startServer({
    proxyProtocolFrom: ["127.0.0.0/8"],
    ruleset: {
      permits: (request) => (seen.push(request), true),
      permitsAddress: () => true,
    },
  });
  const headers: Array<[string, Uint8Array]> = [
    ["v1", encodeProxyHeaderV1({ source: CLIENT, destination: SERVER })],
    [
      "v2",
      encodeProxyHeaderV2({ source: CLIENT, destination: SERVER }, [[
        0x05,
        Uint8Array.of(1, 2, 3),
      ]]),
    ],
  ];
  for (const [name, header] of headers) {
    await t.step(name, async () => {
      using client = await RawClient.open(s.addr);
      // Split a byte at a time: the header is read exactly.
      for (const byte of header) await client.send(Uint8Array.of(byte));
      await client.send(socks5Connect(target.addr));
      assert.equal(await client.readHex(2), "05 00");
      assert.equal((await client.read(10))[1], 0);
      client.close();
      const lines = await s.sessions(seen.length);
      assert.equal(lines.at(-1)!.client, "203.0.113.9:40001");
      assert.deepEqual(seen.at(-1)!.client, CLIENT);
    });
  }
});

Deno.test("a LOCAL or UNKNOWN header keeps the socket's address", async () => {
  await using target = echoTarget();
  await using s = await startServer({ proxyProtocolFrom: ["127.0.0.1/32"] });
  for (const header of [encodeProxyHeaderV2(null), encodeProxyHeaderV1(null)]) {
    using client = await RawClient.open(s.addr);
    await client.send(header);
    await client.send(socks5Connect(target.addr));
    assert.equal(await client.readHex(2), "05 00");
    assert.equal((await client.read(10))[1], 0);
    client.close();
  }
  const lines = await s.sessions(2);
  for (const line of lines) {
    assert.match(String(line.client), /^127\.0\.0\.1:\d+$/);
  }
});

Deno.test("a trusted source without a valid header is closed without a reply", async () => {
  await using s = await startServer({ proxyProtocolFrom: ["127.0.0.0/8"] });
  for (const bytes of ["05 01 00", "50 52 4f 58 59 20 54 43 50 34 0d 0a"]) {
    using client = await RawClient.open(s.addr);
    await client.send(bytes);
    assert.equal(await client.closedByPeer(), true, bytes);
  }
});

Deno.test("an untrusted source may not send a header, and is served without one", async () => {
  await using target = echoTarget();
  await using s = await startServer({ proxyProtocolFrom: ["192.0.2.0/24"] });
  for (
    const header of [
      encodeProxyHeaderV1({ source: CLIENT, destination: SERVER }),
      encodeProxyHeaderV2({ source: CLIENT, destination: SERVER }),
    ]
  ) {
    using client = await RawClient.open(s.addr);
    await client.send(header);
    await client.send(socks5Connect(target.addr));
    assert.equal(await client.closedByPeer(), true);
  }
  using client = await RawClient.open(s.addr);
  await client.send(socks5Connect(target.addr));
  assert.equal(await client.readHex(2), "05 00");
  assert.equal((await client.read(10))[1], 0);
  client.close();
  const lines = await s.sessions(3);
  assert.match(String(lines.at(-1)!.client), /^127\.0\.0\.1:\d+$/);
});

Deno.test("a trusted source that sends half a header is closed at the handshake deadline", async () => {
  await using s = await startServer({
    proxyProtocolFrom: ["127.0.0.0/8"],
    timeouts: { handshake: 200 },
  });
  using client = await RawClient.open(s.addr);
  const started = Date.now();
  await client.send("50 52 4f 58 59 20");
  assert.equal(await client.closedByPeer(), true);
  assert.ok(Date.now() - started >= 150, "not before the deadline");
});

Deno.test("behind a trusted balancer the connection rate limit counts the client in the header, not the balancer", async () => {
  await using target = echoTarget();
  await using s = await startServer({
    proxyProtocolFrom: ["127.0.0.0/8"],
    limits: { connRatePerClient: 1 },
  });
  const attempt = async (source: typeof CLIENT) => {
    using client = await RawClient.open(s.addr);
    await client.send(encodeProxyHeaderV2({ source, destination: SERVER }));
    await client.send(socks5Connect(target.addr));
    const first = await client.conn.read(new Uint8Array(2));
    return first === null ? "closed" : "served";
  };
  // Every attempt comes from the same balancer address, 127.0.0.1. The
  // limit's windows are whole seconds, so a pair may straddle one: of three
  // pairs from one client at least one is cut, while a client the balancer
  // has not named before is always served.
  let refused = 0;
  for (let i = 0; i < 3; i++) {
    const pair = [await attempt(CLIENT), await attempt(CLIENT)];
    if (pair.includes("closed")) refused++;
    assert.equal(
      await attempt({ hostname: `198.51.100.${10 + i}`, port: 40000 + i }),
      "served",
      `fresh client #${i}`,
    );
  }
  assert.ok(refused >= 1, "the header's client was rate limited");
});

Deno.test("behind a trusted balancer the failed-login throttle counts the client in the header", async () => {
  await using target = echoTarget();
  await using s = await startServer({
    proxyProtocolFrom: ["127.0.0.0/8"],
    users: { alice: "right" },
    limits: { authFailuresPerMinute: 1 },
  });
  const login = async (source: typeof CLIENT, password: string) => {
    using client = await RawClient.open(s.addr);
    await client.send(encodeProxyHeaderV2({ source, destination: SERVER }));
    const p = new TextEncoder().encode(password);
    await client.send(
      Uint8Array.of(
        5,
        1,
        2,
        1,
        5,
        ...new TextEncoder().encode("alice"),
        p.length,
        ...p,
      ),
    );
    assert.equal(await client.readHex(2), "05 02");
    return await client.readHex(2);
  };
  assert.equal(await login(CLIENT, "wrong"), "01 01");
  // Throttled: even the right password is refused for this client...
  assert.equal(await login(CLIENT, "right"), "01 01");
  // ...but not for another client behind the same balancer.
  assert.equal(
    await login({ hostname: "198.51.100.20", port: 1 }, "right"),
    "01 00",
  );
  await target.close();
});
