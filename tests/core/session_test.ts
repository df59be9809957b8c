import assert from "node:assert/strict";
import { hex, ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { echoTarget, payload } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";

Deno.test("session answers no-auth greeting with 05 00 and relays CONNECT", async () => {
  await using target = echoTarget();
  await using s = await startServer();
  using client = await RawClient.open(s.addr);
  await client.send("05 01 00");
  assert.equal(await client.readHex(2), "05 00");
  await client.send(`05 01 00 ${ipv4Hex(target.addr)}`);
  const reply = await client.read(10);
  assert.equal(reply.length, 10);
  assert.deepEqual([...reply.subarray(0, 4)], [5, 0, 0, 1]);
  await client.send("68 65 6c 6c 6f");
  assert.equal(await client.readHex(5), "68 65 6c 6c 6f");
});

Deno.test("session answers 05 FF and closes when no acceptable method is offered", async (t) => {
  await t.step("only GSSAPI offered to a no-auth server", async () => {
    await using s = await startServer();
    using client = await RawClient.open(s.addr);
    await client.send("05 01 01");
    assert.equal(await client.readHex(2), "05 ff");
    assert.equal(await client.closedByPeer(), true);
  });
  await t.step("NMETHODS = 0", async () => {
    await using s = await startServer();
    using client = await RawClient.open(s.addr);
    await client.send("05 00");
    assert.equal(await client.readHex(2), "05 ff");
    assert.equal(await client.closedByPeer(), true);
  });
  await t.step("no-auth offered to a server with users", async () => {
    await using s = await startServer({ users: { alice: "wonderland" } });
    using client = await RawClient.open(s.addr);
    await client.send("05 01 00");
    assert.equal(await client.readHex(2), "05 ff");
    assert.equal(await client.closedByPeer(), true);
  });
});

Deno.test("session closes without a reply when no served protocol starts with the first byte", async () => {
  await using s = await startServer();
  using client = await RawClient.open(s.addr);
  await client.send("16 03 01 00 50 7f 00 00 01 00");
  assert.equal(await client.closedByPeer(), true);
  const [line] = await s.sessions(1);
  assert.match(String(line!.error), /Unsupported protocol: first byte 0x16/);
});

Deno.test("session authenticates with RFC 1929", async (t) => {
  await using target = echoTarget();
  await using s = await startServer({ users: { alice: "wonderland" } });
  const login = (user: string, pass: string) => {
    const u = new TextEncoder().encode(user);
    const p = new TextEncoder().encode(pass);
    return Uint8Array.of(1, u.length, ...u, p.length, ...p);
  };

  await t.step("right password: 01 00, then the request works", async () => {
    using client = await RawClient.open(s.addr);
    await client.send("05 02 00 02");
    assert.equal(await client.readHex(2), "05 02");
    await client.send(login("alice", "wonderland"));
    assert.equal(await client.readHex(2), "01 00");
    await client.send(`05 01 00 ${ipv4Hex(target.addr)}`);
    assert.equal((await client.read(10))[1], 0x00);
  });
  await t.step("wrong password: 01 01 and close", async () => {
    using client = await RawClient.open(s.addr);
    await client.send("05 01 02");
    assert.equal(await client.readHex(2), "05 02");
    await client.send(login("alice", "wonderlanD"));
    assert.equal(await client.readHex(2), "01 01");
    assert.equal(await client.closedByPeer(), true);
  });
  await t.step("unknown user: the same 01 01 and close", async () => {
    using client = await RawClient.open(s.addr);
    await client.send("05 01 02");
    assert.equal(await client.readHex(2), "05 02");
    await client.send(login("mallory", "wonderland"));
    assert.equal(await client.readHex(2), "01 01");
    assert.equal(await client.closedByPeer(), true);
  });
  await t.step(
    "sub-negotiation version 05 instead of 01: 01 01 and close",
    async () => {
      using client = await RawClient.open(s.addr);
      await client.send("05 01 02");
      assert.equal(await client.readHex(2), "05 02");
      await client.send("05 01 61 01 62");
      assert.equal(await client.readHex(2), "01 01");
      assert.equal(await client.closedByPeer(), true);
    },
  );
  await t.step("logs hold no password and count the failures", async () => {
    await s.sessions(4);
    const text = s.lines.join("\n");
    assert.equal(text.includes("wonderland"), false);
    assert.equal(text.includes("wonderlanD"), false);
    assert.equal(s.metrics.get("auth_failures_total"), 3);
    const users = (await s.sessions(4)).map((l) => l.user);
    assert.deepEqual(users.filter((u) => u !== null), ["alice"]);
  });
});

Deno.test("session parses frames delivered one byte at a time", async () => {
  await using target = echoTarget();
  await using s = await startServer({ users: { bob: "builder" } });
  using client = await RawClient.open(s.addr);
  (client.conn as Deno.TcpConn).setNoDelay(true);
  const bytes = hex(
    `05 01 02 01 03 62 6f 62 07 62 75 69 6c 64 65 72 05 01 00 ${
      ipv4Hex(target.addr)
    }`,
  );
  const expected = ["05 02", "01 00"];
  for (let i = 0; i < bytes.length; i++) {
    await client.send(bytes.subarray(i, i + 1));
    // Read each answer as soon as its frame is complete.
    if (i === 2) assert.equal(await client.readHex(2), expected[0]);
    if (i === 15) assert.equal(await client.readHex(2), expected[1]);
  }
  assert.equal((await client.read(10))[1], 0x00);
  await client.send("01 02 03");
  assert.equal(await client.readHex(3), "01 02 03");
});

Deno.test("session serves a client that pipelines greeting, auth, request and data in one write", async () => {
  await using target = echoTarget();
  await using s = await startServer({ users: { bob: "builder" } });
  using client = await RawClient.open(s.addr);
  await client.send(
    `05 01 02 01 03 62 6f 62 07 62 75 69 6c 64 65 72 05 01 00 ${
      ipv4Hex(target.addr)
    } de ad be ef`,
  );
  assert.equal(await client.readHex(2), "05 02");
  assert.equal(await client.readHex(2), "01 00");
  assert.equal((await client.read(10))[1], 0x00);
  assert.equal(await client.readHex(4), "de ad be ef");
});

Deno.test("session replies with full 10-byte failures and closes promptly", async (t) => {
  await using s = await startServer();
  const cases: Array<[string, string, string]> = [
    [
      "unknown command 0x09 ⇒ 07",
      "05 09 00 01 7f 00 00 01 00 50",
      "05 07 00 01 00 00 00 00 00 00",
    ],
    [
      "address type 0x05 ⇒ 08",
      "05 01 00 05 7f 00 00 01 00 50",
      "05 08 00 01 00 00 00 00 00 00",
    ],
    [
      "domain of length 0 ⇒ 01",
      "05 01 00 03 00 00 50",
      "05 01 00 01 00 00 00 00 00 00",
    ],
    [
      "request version 04 ⇒ 01",
      "04 01 00 01 7f 00 00 01 00 50",
      "05 01 00 01 00 00 00 00 00 00",
    ],
  ];
  for (const [name, request, reply] of cases) {
    await t.step(name, async () => {
      using client = await RawClient.open(s.addr);
      await client.send("05 01 00");
      assert.equal(await client.readHex(2), "05 00");
      await client.send(request);
      assert.equal(await client.readHex(10), reply);
      assert.equal(await client.closedByPeer(), true);
    });
  }
});

Deno.test("session closes a client that stays silent past the handshake deadline", async () => {
  await using s = await startServer({ timeouts: { handshake: 150 } });
  using client = await RawClient.open(s.addr);
  await client.send("05 01");
  assert.equal(await client.closedByPeer(), true);
  const [line] = await s.sessions(1);
  assert.equal(line!.error, "Handshake timed out");
  assert.equal(s.metrics.get("handshake_failures_total"), 1);
});

Deno.test("session logs one access line per session with bytes each way", async () => {
  await using target = echoTarget();
  await using s = await startServer();
  {
    using client = await RawClient.open(s.addr);
    await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)}`);
    await client.read(12);
    await client.send(payload(1000));
    await client.read(1000);
    await client.conn.closeWrite();
    await client.readToEnd();
  }
  const [line] = await s.sessions(1);
  assert.equal(line!.command, "connect");
  assert.equal(line!.destination, `127.0.0.1:${target.addr.port}`);
  assert.equal(line!.reply, 0);
  assert.equal(line!.bytesUp, 1000);
  assert.equal(line!.bytesDown, 1000);
  assert.equal(line!.user, null);
  assert.match(String(line!.client), /^127\.0\.0\.1:\d+$/);
  assert.equal(typeof line!.durationMs, "number");
});
