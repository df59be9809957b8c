import assert from "node:assert/strict";
import type { RuleRequest } from "../../src/policy/ruleset.ts";
import { RawClient, toHex } from "../_helpers/raw_client.ts";
import { echoTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { fakeGssLoader } from "../_helpers/fake_gss.ts";

const enc = (text: string) => new TextEncoder().encode(text);

function portHex(port: number): string {
  return `${(port >> 8).toString(16).padStart(2, "0")} ${
    (port & 0xff).toString(16).padStart(2, "0")
  }`;
}

/** A closed loopback port: listen, note the port, close. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

Deno.test("SOCKS4 CONNECT is answered 00 5A with the outbound address, then relays", async () => {
  await using target = echoTarget();
  const seen: RuleRequest[] = [];
  await using s = await startServer({
    ruleset: {
      permits: (request) => (seen.push(request), true),
      permitsAddress: () => true,
    },
  });
  using client = await RawClient.open(s.addr);
  // The request and the first payload in one segment.
  await client.send(
    `04 01 ${portHex(target.addr.port)} 7f 00 00 01 62 6f 62 00 70 69 6e 67`,
  );
  const reply = await client.read(8);
  assert.equal(toHex(reply.subarray(0, 2)), "00 5a");
  assert.equal(toHex(reply.subarray(4, 8)), "7f 00 00 01");
  assert.equal(new TextDecoder().decode(await client.read(4)), "ping");
  client.close();
  const [line] = await s.sessions(1);
  assert.equal(line!.protocol, "socks4");
  assert.equal(line!.user, null, "the USERID is not a user");
  assert.equal(line!.reply, 0);
  assert.equal(line!.destination, `127.0.0.1:${target.addr.port}`);
  assert.equal(seen[0]!.protocol, "socks4");
  assert.equal(seen[0]!.user, null);
});

Deno.test("SOCKS4A CONNECT sends the name to the server, which resolves it", async () => {
  await using target = echoTarget();
  await using s = await startServer();
  using client = await RawClient.open(s.addr);
  await client.send(
    Uint8Array.of(
      4,
      1,
      target.addr.port >> 8,
      target.addr.port & 0xff,
      0,
      0,
      0,
      1,
      0,
      ...enc("localhost"),
      0,
    ),
  );
  assert.equal(toHex((await client.read(8)).subarray(0, 2)), "00 5a");
  await client.send(enc("x"));
  assert.equal(new TextDecoder().decode(await client.read(1)), "x");
  client.close();
  const [line] = await s.sessions(1);
  assert.equal(line!.destination, `localhost:${target.addr.port}`);
});

Deno.test("SOCKS4 failures are answered 00 5B with a zero address and close", async (t) => {
  await using s = await startServer({
    ruleset: {
      permits: (request) => request.destination.port !== 9,
      permitsAddress: () => true,
    },
  });
  const cases: Array<[string, string, number]> = [
    ["refused", `04 01 ${portHex(closedPort())} 7f 00 00 01 00`, 5],
    ["ruleset", "04 01 00 09 7f 00 00 01 00", 2],
    ["unknown command", "04 03 00 50 7f 00 00 01 00", 7],
  ];
  for (const [name, request, reply] of cases) {
    await t.step(name, async () => {
      using client = await RawClient.open(s.addr);
      await client.send(request);
      assert.equal(await client.readHex(8), "00 5b 00 00 00 00 00 00");
      assert.equal(await client.closedByPeer(), true);
      const lines = await s.sessions(cases.findIndex((c) => c[0] === name) + 1);
      assert.equal(lines.at(-1)!.reply, reply);
    });
  }
});

Deno.test("SOCKS4 BIND sends two 00 5A replies: the listening address, then the peer's", async () => {
  await using s = await startServer();
  using client = await RawClient.open(s.addr);
  await client.send("04 02 00 00 7f 00 00 01 00");
  const first = await client.read(8);
  assert.equal(toHex(first.subarray(0, 2)), "00 5a");
  assert.equal(toHex(first.subarray(4, 8)), "7f 00 00 01");
  const port = (first[2]! << 8) | first[3]!;
  using peer = await RawClient.open({ hostname: "127.0.0.1", port });
  const second = await client.read(8);
  assert.equal(toHex(second.subarray(0, 2)), "00 5a");
  assert.equal(toHex(second.subarray(4, 8)), "7f 00 00 01");
  assert.equal(
    (second[2]! << 8) | second[3]!,
    (peer.conn.localAddr as Deno.NetAddr).port,
  );
  await peer.send(enc("from peer"));
  assert.equal(new TextDecoder().decode(await client.read(9)), "from peer");
});

Deno.test("SOCKS4 is closed without a reply when users are configured, unless allowed", async (t) => {
  await using target = echoTarget();
  const request = `04 01 ${portHex(target.addr.port)} 7f 00 00 01 00`;
  await t.step("users: no reply, closed", async () => {
    await using s = await startServer({ users: { alice: "pw" } });
    using client = await RawClient.open(s.addr);
    await client.send(request);
    assert.equal(await client.closedByPeer(), true);
  });
  await t.step("users and allowSocks4WithUsers: served, no user", async () => {
    await using s = await startServer({
      users: { alice: "pw" },
      allowSocks4WithUsers: true,
    });
    using client = await RawClient.open(s.addr);
    await client.send(request);
    assert.equal(toHex((await client.read(8)).subarray(0, 2)), "00 5a");
    client.close();
    const [line] = await s.sessions(1);
    assert.equal(line!.user, null);
    assert.equal(line!.protocol, "socks4");
  });
  await t.step("protocols.socks4 false: no reply, closed", async () => {
    await using s = await startServer({ protocols: { socks4: false } });
    using client = await RawClient.open(s.addr);
    await client.send(request);
    assert.equal(await client.closedByPeer(), true);
  });
});

Deno.test("with GSS-API as the only method, SOCKS4 and HTTP are closed without a reply", async () => {
  const fake = fakeGssLoader();
  await using s = await startServer(
    { gssapi: { keytab: "/fake.keytab", service: "rcmd" } },
    { loadGssapi: fake.load },
  );
  for (
    const bytes of [
      "04 01 00 50 7f 00 00 01 00",
      toHex(enc("CONNECT 127.0.0.1:80 HTTP/1.1\r\n\r\n")),
    ]
  ) {
    using client = await RawClient.open(s.addr);
    await client.send(bytes);
    assert.equal(await client.closedByPeer(), true, bytes);
  }
});
