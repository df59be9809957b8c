/**
 * Nothing lost: 200 concurrent transfers of distinct 1 MiB payloads through
 * the proxy, both directions at once, each verified byte-exact as it
 * arrives, each ended with a half-close that must deliver everything before
 * the EOF.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { echoTarget, payload } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { eventually, within } from "../_helpers/wait.ts";

const TRANSFERS = 200;
const SIZE = 1 << 20;

/** Sends `data` while checking the echo chunk by chunk against it. */
async function transfer(
  proxy: Deno.NetAddr,
  target: Deno.NetAddr,
  data: Uint8Array,
): Promise<void> {
  using client = await RawClient.open(proxy);
  // Greeting and request in one write.
  await client.send(`05 01 00 05 01 00 ${ipv4Hex(target)}`);
  const head = await client.read(12);
  assert.equal(head[3], 0x00, "CONNECT refused");
  const checking = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    let at = 0;
    for (;;) {
      const n = await client.conn.read(buffer);
      if (n === null) break;
      for (let i = 0; i < n; i++) {
        if (buffer[i] !== data[at + i]) {
          throw new Error(
            `Byte ${at + i} differs (${buffer[i]} != ${data[at + i]})`,
          );
        }
      }
      at += n;
      if (at > data.length) {
        throw new Error(`${at - data.length} bytes too many`);
      }
    }
    return at;
  })();
  let written = 0;
  while (written < data.length) {
    written += await client.conn.write(
      data.subarray(written, written + 128 * 1024),
    );
  }
  await client.conn.closeWrite();
  assert.equal(await checking, data.length);
}

Deno.test("relay moves 200 concurrent distinct 1 MiB payloads both ways byte-exact", async () => {
  await using target = echoTarget();
  await using s = await startServer();
  const results = await within(
    Promise.allSettled(
      Array.from(
        { length: TRANSFERS },
        (_, i) =>
          transfer(s.addr, target.addr, payload(SIZE, 0x9e3779b9 ^ (i + 1))),
      ),
    ),
    60_000,
    "transfers",
  );
  const failed = results.filter((r) => r.status === "rejected");
  assert.deepEqual(failed, []);
  const lines = await s.sessions(TRANSFERS);
  for (const line of lines) {
    assert.equal(line.bytesUp, SIZE);
    assert.equal(line.bytesDown, SIZE);
    assert.equal(line.reply, 0);
  }
  assert.equal(
    s.metrics.get("relayed_bytes_total", { direction: "up" }),
    TRANSFERS * SIZE,
  );
  assert.equal(
    s.metrics.get("relayed_bytes_total", { direction: "down" }),
    TRANSFERS * SIZE,
  );
  await eventually(() => s.server.activeSessions === 0, "sessions ended");
});
