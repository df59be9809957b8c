import assert from "node:assert/strict";
import { connect } from "../../src/mod.ts";
import { serve } from "../../src/mod.ts";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { echoTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { sleep } from "../_helpers/wait.ts";

Deno.test("serve() refuses a non-loopback address without authentication", async (t) => {
  for (const hostname of ["0.0.0.0", "::"]) {
    await t.step(hostname, async () => {
      await assert.rejects(
        serve({ listen: { hostname, port: 0 } }),
        (error: unknown) =>
          error instanceof TypeError &&
          /without authentication/.test(error.message),
      );
    });
  }
});

Deno.test("serve() listens on several addresses, IPv4 and IPv6", async () => {
  await using target = echoTarget();
  await using s = await startServer({
    listen: [{ hostname: "127.0.0.1", port: 0 }, { hostname: "::1", port: 0 }],
  });
  assert.equal(s.server.addrs.length, 2);
  for (const addr of s.server.addrs) {
    const { conn } = await connect({
      host: "127.0.0.1",
      port: target.addr.port,
    }, {
      proxy: addr,
    });
    const client = new RawClient(conn);
    await client.send("2a");
    assert.equal(await client.readHex(1), "2a");
    client.close();
  }
});

Deno.test("serve() closes connections beyond maxSessions at once and recovers", async () => {
  await using target = echoTarget();
  await using s = await startServer({ maxSessions: 2 });
  const open = async () => {
    const client = await RawClient.open(s.addr);
    await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)}`);
    return client;
  };
  using first = await open();
  using second = await open();
  assert.equal((await first.read(12))[3], 0x00);
  assert.equal((await second.read(12))[3], 0x00);

  using third = await RawClient.open(s.addr);
  assert.equal(await third.closedByPeer(), true);
  assert.equal(s.metrics.get("sessions_rejected_total"), 1);

  // The sessions already running keep working.
  await first.send("01");
  assert.equal(await first.readHex(1), "01");

  first.close();
  await s.sessions(1);
  using fourth = await open();
  assert.equal((await fourth.read(12))[3], 0x00);
  await fourth.send("02");
  assert.equal(await fourth.readHex(1), "02");
});

Deno.test("shutdown() stops accepting, lets sessions drain, then resolves finished", async () => {
  await using target = echoTarget();
  const s = await startServer();
  using client = await RawClient.open(s.addr);
  await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)}`);
  await client.read(12);

  const finished = s.server.shutdown({ graceMs: 10_000 });
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port: s.addr.port }),
  );
  // The running session still relays.
  await client.send("0a 0b");
  assert.equal(await client.readHex(2), "0a 0b");
  let done = false;
  finished.then(() => done = true);
  await sleep(50);
  assert.equal(done, false);

  await client.conn.closeWrite();
  await client.readToEnd();
  await finished;
  assert.equal(s.server.activeSessions, 0);
  assert.equal((await s.sessions(1))[0]!.bytesUp, 2);
});

Deno.test("shutdown() closes sessions still running after the grace period", async () => {
  await using target = echoTarget();
  const s = await startServer();
  using client = await RawClient.open(s.addr);
  await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)}`);
  await client.read(12);
  await s.server.shutdown({ graceMs: 50 });
  assert.equal(await client.closedByPeer(), true);
  assert.ok(s.logs.some((l) => l.msg === "closing sessions still running"));
});

Deno.test("serve() closes relayed connections idle past the idle timeout", async () => {
  await using target = echoTarget();
  await using s = await startServer({ timeouts: { idle: 150 } });
  using client = await RawClient.open(s.addr);
  await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)}`);
  await client.read(12);
  await client.send("01");
  await client.read(1);
  assert.equal(await client.closedByPeer(), true);
  assert.equal((await s.sessions(1))[0]!.bytesDown, 1);
});

Deno.test("serve() blocks internal destinations with 02 when asked to", async () => {
  await using target = echoTarget();
  await using s = await startServer({ blockInternalDestinations: true });
  using client = await RawClient.open(s.addr);
  await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)}`);
  assert.equal(await client.readHex(12), "05 00 05 02 00 01 00 00 00 00 00 00");
});
