/**
 * A thousand connections of random garbage in a row, then a normal client:
 * it is served correctly, every garbage session ended, nothing leaked.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { echoTarget, payload } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { readUntilClosed } from "./_bounded.ts";
import { eventually, within } from "../_helpers/wait.ts";

const CONNECTIONS = 1_000;
/** Garbage clients at a time; the thousand still arrive back to back. */
const PARALLEL = 20;

/** Deterministic garbage, mostly starting like SOCKS5 so it gets further. */
function garbage(index: number): Uint8Array {
  const bytes = payload(1 + (index * 7919) % 300, index + 1);
  // A quarter each: pure noise; version 5 then noise; a valid greeting then
  // noise as the request; a valid greeting and request head then noise.
  const prefixes = [[], [5], [5, 1, 0], [5, 1, 0, 5, bytes[0]! % 4, 0]];
  return Uint8Array.of(...prefixes[index % 4]!, ...bytes);
}

Deno.test("serve() survives 1,000 garbage connections in a row and then serves a normal client", async () => {
  await using target = echoTarget();
  await using s = await startServer({ timeouts: { handshake: 300 } });
  let next = 0;
  const ends = { eof: 0, reset: 0, limit: 0 };
  const worker = async () => {
    while (next < CONNECTIONS) {
      const index = next++;
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: s.addr.port,
      });
      try {
        try {
          await conn.write(garbage(index));
        } catch {
          // Closed on the first bytes (e.g. a version other than 5).
        }
        // Every third client leaves at once, the others half-close or wait
        // for the server to close them.
        if (index % 3 === 0) continue;
        if (index % 3 === 1) await conn.closeWrite();
        const { end } = await within(
          readUntilClosed(conn, 1 << 16),
          10_000,
          `garbage client ${index}`,
        );
        ends[end]++;
      } finally {
        conn.close();
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  // Every client the server did not leave to close itself was closed by it.
  assert.equal(ends.limit, 0);

  // A normal client now gets full service.
  using client = await RawClient.open(s.addr);
  await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)}`);
  assert.equal(await client.readHex(2), "05 00");
  assert.equal((await client.read(10))[1], 0x00);
  const data = payload(100_000, 77);
  await client.send(data);
  assert.deepEqual(await client.read(data.length), data);
  await client.conn.closeWrite();
  assert.equal((await client.readToEnd()).length, 0);

  await s.sessions(CONNECTIONS + 1);
  await eventually(() => s.server.activeSessions === 0, "sessions active");
  assert.equal(s.metrics.get("sessions_total"), CONNECTIONS + 1);
  assert.equal(s.metrics.get("sessions_active"), 0);
  assert.equal(s.metrics.get("sessions_rejected_total"), 0);
  assert.deepEqual(s.logs.filter((l) => l.level === "error"), []);
  const served = s.logs.filter((l) => l.msg === "session" && l.reply === 0);
  assert.equal(served.at(-1)?.bytesUp, data.length);
});
