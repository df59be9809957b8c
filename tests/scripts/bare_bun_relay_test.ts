import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { findBun } from "../../scripts/bun.ts";
import { hex, portHex, RawClient, toHex } from "../_helpers/raw_client.ts";
import { REQUIRE_ALL } from "../_helpers/server_commands.ts";
import { watchStderr } from "../_helpers/stderr_watch.ts";
import { echoTarget, payload } from "../_helpers/targets.ts";

// The benchmark's ceiling must be a real relay, or the ratios to it lie.

const bun = findBun();
const RELAY = fileURLToPath(
  new URL("../../scripts/bench/bare_bun_relay.ts", import.meta.url),
);

/** Starts the bare relay on a free port; stops it when disposed. */
async function _startRelay(): Promise<
  { port: number; [Symbol.asyncDispose](): Promise<void> }
> {
  const child = new Deno.Command(bun!, {
    args: [RELAY, "0"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = watchStderr(child);
  const listening = /listening 127\.0\.0\.1:(\d+)\n/;
  if (!(await stderr.until(listening))) {
    await child.status;
    throw new Error(`relay exited before listening: ${stderr.text()}`);
  }
  return {
    port: Number(listening.exec(stderr.text())![1]),
    async [Symbol.asyncDispose]() {
      await stderr.stop();
    },
  };
}

Deno.test({
  name:
    "bare Bun relay: CONNECT replies with the bound address and echoes byte-exact, half-close included",
  ignore: bun === null && !REQUIRE_ALL,
  async fn() {
    assert.ok(bun, "the pinned Bun is not installed");
    await using target = echoTarget();
    await using relay = await _startRelay();
    using client = await RawClient.open({
      hostname: "127.0.0.1",
      port: relay.port,
    });
    await client.send("05 01 00");
    assert.equal(await client.readHex(2), "05 00");
    await client.send(`05 01 00 01 7f 00 00 01 ${portHex(target.addr.port)}`);
    const reply = await client.read(10);
    assert.equal(toHex(reply.subarray(0, 8)), "05 00 00 01 7f 00 00 01");
    assert.notEqual(
      (reply[8]! << 8) | reply[9]!,
      0,
      "BND.PORT is the real one",
    );
    const data = payload(300_000, 7);
    await client.send(data);
    await client.conn.closeWrite();
    // The target half-closes only after the relay forwarded our FIN.
    assert.deepEqual(await client.readToEnd(), data);
  },
});

Deno.test({
  name: "bare Bun relay: refuses what it does not do with full replies",
  ignore: bun === null && !REQUIRE_ALL,
  async fn() {
    assert.ok(bun, "the pinned Bun is not installed");
    await using relay = await _startRelay();
    const addr = { hostname: "127.0.0.1", port: relay.port };
    {
      using client = await RawClient.open(addr);
      await client.send("05 01 02"); // username/password only
      assert.equal(await client.readHex(2), "05 ff");
      assert.ok(await client.closedByPeer());
    }
    {
      using client = await RawClient.open(addr);
      await client.send("05 01 00");
      assert.equal(await client.readHex(2), "05 00");
      await client.send(hex("05 02 00 01 7f 00 00 01 00 50")); // BIND
      assert.equal(await client.readHex(10), "05 07 00 01 00 00 00 00 00 00");
      assert.ok(await client.closedByPeer());
    }
  },
});
