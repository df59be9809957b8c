/**
 * Clients that connect and reset at once make the next `accept()` fail
 * (ENOTCONN, ECONNABORTED). That failure concerns one connection: the accept
 * loop must skip it at once, never pause, or a few resets lock every other
 * client out.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { resetBurstWhileBlocked } from "../_helpers/reset_clients.ts";
import { echoTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { within } from "../_helpers/wait.ts";

/** Bursts, each small enough for the listen backlog. */
const BURSTS = 4;
const PER_BURST = 100;

async function echoOnce(client: RawClient, target: Deno.NetAddr) {
  await client.send(`05 01 00 05 01 00 ${ipv4Hex(target)} 2a 2b`);
  assert.equal(await client.readHex(2), "05 00");
  assert.equal((await client.read(10))[1], 0x00);
  assert.equal(await client.readHex(2), "2a 2b");
}

Deno.test("serve() skips accept failures of reset connections without pausing and keeps serving", async () => {
  await using target = echoTarget();
  await using s = await startServer();
  const addr = s.addr;
  let reset = 0;
  for (let burst = 0; burst < BURSTS; burst++) {
    // A normal client queued behind the burst's resets ("during"): the
    // bound only turns a lock-out (the old back-off slept up to 1 s per
    // failure) into a failure, it is no latency assertion.
    using during = await RawClient.open(addr);
    reset += resetBurstWhileBlocked(addr.port, PER_BURST);
    await within(echoOnce(during, target.addr), 10_000, `burst ${burst}`);
  }
  using after = await RawClient.open(addr);
  await within(echoOnce(after, target.addr), 10_000, "after the bursts");

  assert.equal(reset, BURSTS * PER_BURST);
  const aborted = s.metrics.get("accept_errors_total", "aborted");
  assert.ok(
    aborted >= BURSTS * PER_BURST / 2,
    `only ${aborted} accept failures: the bursts did not reach accept()`,
  );
  assert.equal(s.metrics.get("accept_pauses_total"), 0);
  assert.equal(s.metrics.get("accept_errors_total", "exhausted"), 0);
  assert.equal(s.metrics.get("accept_errors_total", "other"), 0);
  assert.ok(
    !s.logs.some((l) => l.msg === "accept failed"),
    "the accept loop paused for a per-connection failure",
  );
  // Rate-limited: one warning for hundreds of failures.
  assert.equal(
    s.logs.filter((l) => l.msg === "accept skipped a failed connection").length,
    1,
  );
});
