/**
 * Slow clients: one byte per second, or nothing at all. Each is closed at
 * the handshake deadline (a hard deadline from accept: trickling bytes does
 * not extend it), and while many of them hold connections, normal clients
 * are served as usual.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { echoTarget, payload } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { readUntilClosed } from "./_bounded.ts";
import { eventually, within } from "../_helpers/wait.ts";

const TRICKLERS = 40;
const SILENT = 40;
const HANDSHAKE_MS = 2_000;

/** Sends a 257-byte greeting one byte per second until the server closes. */
async function trickle(
  conn: Deno.TcpConn,
  signal: AbortSignal,
): Promise<number> {
  conn.setNoDelay(true);
  const greeting = Uint8Array.of(5, 255, ...new Uint8Array(255));
  let sent = 0;
  // Bounded in count (the greeting's length) and in time (the signal).
  for (; sent < greeting.length && !signal.aborted; sent++) {
    try {
      await conn.write(greeting.subarray(sent, sent + 1));
    } catch {
      break; // Closed by the server.
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 1_000);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
  return sent;
}

Deno.test("serve() closes slow and silent clients at the handshake deadline without delaying others", async () => {
  await using target = echoTarget();
  await using s = await startServer({ timeouts: { handshake: HANDSHAKE_MS } });
  const stop = new AbortController();
  const port = s.addr.port;
  const slow = await Promise.all(
    Array.from(
      { length: TRICKLERS + SILENT },
      () => Deno.connect({ hostname: "127.0.0.1", port }),
    ),
  );
  let slowClosed = 0;
  const watching = slow.map(async (conn, i) => {
    const trickling = i < TRICKLERS ? trickle(conn, stop.signal) : null;
    const { bytes } = await readUntilClosed(conn, 16);
    slowClosed++;
    await trickling;
    return bytes.length;
  });

  // Normal traffic while the slow clients hold their connections: complete
  // sessions, each with a handshake and a verified echo.
  let served = 0;
  let servedWhileSlowOpen = 0;
  const normal = async (seed: number) => {
    using client = await RawClient.open(s.addr);
    await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)}`);
    assert.equal(await client.readHex(2), "05 00");
    assert.equal((await client.read(10))[1], 0x00);
    const data = payload(4096, seed);
    await client.send(data);
    assert.deepEqual(await client.read(data.length), data);
    served++;
    if (slowClosed === 0) servedWhileSlowOpen++;
  };
  for (let round = 0; round < 10; round++) {
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => normal(round * 5 + i + 1)),
    );
  }
  assert.equal(served, 50);
  // The normal sessions did not queue behind the slow ones: they were all
  // served before the deadline closed the first slow client.
  assert.equal(servedWhileSlowOpen, 50);

  // Every slow client is closed by the deadline, without an answer (the
  // greeting never completes), within a generous hang bound.
  const answered = await within(
    Promise.all(watching),
    HANDSHAKE_MS + 10_000,
    "slow clients closed",
  );
  stop.abort();
  for (const conn of slow) conn.close();
  assert.deepEqual(answered, new Array(TRICKLERS + SILENT).fill(0));

  const lines = await s.sessions(TRICKLERS + SILENT + 50);
  const timedOut = lines.filter((l) => l.error === "Handshake timed out");
  assert.equal(timedOut.length, TRICKLERS + SILENT);
  assert.equal(s.metrics.get("handshake_failures_total"), TRICKLERS + SILENT);
  await eventually(() => s.server.activeSessions === 0, "sessions active");
});
