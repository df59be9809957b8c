/**
 * A connection flood at --max-sessions: every extra connection is closed at
 * once and counted, the sessions already running keep relaying through the
 * flood, the warning is rate-limited, and service resumes when load drops.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { echoTarget, payload } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { readUntilClosed } from "./_bounded.ts";
import { eventually, within } from "../_helpers/wait.ts";

const MAX = 20;
const FLOOD = 300;

Deno.test("serve() at maxSessions rejects a flood at once, keeps existing sessions working and recovers", async () => {
  await using target = echoTarget();
  await using s = await startServer({ maxSessions: MAX });
  const open = async () => {
    const client = await RawClient.open(s.addr);
    await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)}`);
    assert.equal(await client.readHex(2), "05 00");
    assert.equal((await client.read(10))[1], 0x00);
    return client;
  };
  const sessions = await Promise.all(Array.from({ length: MAX }, open));
  assert.equal(s.server.activeSessions, MAX);

  // The flood: connections that even send a full request. Meanwhile every
  // running session keeps relaying, verified byte for byte.
  let relayed = 0;
  const traffic = sessions.map(async (client, i) => {
    for (let round = 0; round < 5; round++) {
      const data = payload(8192, i * 100 + round + 1);
      await client.send(data);
      assert.deepEqual(await client.read(data.length), data);
      relayed++;
    }
  });
  const port = s.addr.port;
  const flood = Array.from({ length: FLOOD }, async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await conn.write(Uint8Array.of(5, 1, 0)).catch(() => 0);
      // Closed without a single byte of answer.
      return await within(readUntilClosed(conn, 16), 10_000, "rejected");
    } finally {
      conn.close();
    }
  });
  const rejected = await Promise.all(flood);
  await within(Promise.all(traffic), 20_000, "traffic during the flood");
  assert.equal(relayed, MAX * 5);
  for (const { bytes } of rejected) assert.equal(bytes.length, 0);
  assert.equal(s.metrics.get("sessions_rejected_total"), FLOOD);
  assert.equal(s.metrics.get("sessions_total"), MAX);
  assert.equal(s.server.activeSessions, MAX);
  // One warning for the whole flood, not one per connection.
  assert.equal(
    s.logs.filter((l) => l.msg === "max sessions reached").length,
    1,
  );

  // Load drops by half: as many new clients are served, relaying correctly.
  for (const client of sessions.splice(0, MAX / 2)) client.close();
  await eventually(
    () => s.server.activeSessions === MAX / 2,
    "sessions to end",
  );
  const fresh = await Promise.all(Array.from({ length: MAX / 2 }, open));
  for (const [i, client] of fresh.entries()) {
    const data = payload(1000, 9000 + i);
    await client.send(data);
    assert.deepEqual(await client.read(data.length), data);
  }
  assert.equal(s.metrics.get("sessions_rejected_total"), FLOOD);

  for (const client of [...sessions, ...fresh]) client.close();
  await eventually(() => s.server.activeSessions === 0, "sessions to end");
  assert.equal(s.metrics.get("sessions_active"), 0);
});
