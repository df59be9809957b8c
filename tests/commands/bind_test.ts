import assert from "node:assert/strict";
import { bind } from "../../src/mod.ts";
import { SocksError } from "../../src/protocol/errors.ts";
import { Reply } from "../../src/protocol/constants.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { startServer } from "../_helpers/test_server.ts";

Deno.test("handleBind() replies twice and relays between client and peer", async () => {
  await using s = await startServer();
  const binding = await bind({ host: "0.0.0.0", port: 0 }, { proxy: s.addr });
  assert.equal(binding.bound.host, "127.0.0.1");
  assert.notEqual(binding.bound.port, 0);

  using peer = new RawClient(
    await Deno.connect({
      hostname: binding.bound.host,
      port: binding.bound.port,
    }),
  );
  const second = await binding.peer;
  assert.equal(second.host, "127.0.0.1");
  assert.equal(second.port, (peer.conn.localAddr as Deno.NetAddr).port);

  using client = new RawClient(binding.conn);
  await client.send("70 69 6e 67");
  assert.equal(await peer.readHex(4), "70 69 6e 67");
  await peer.send("70 6f 6e 67");
  assert.equal(await client.readHex(4), "70 6f 6e 67");
  await peer.conn.closeWrite();
  assert.equal((await client.readToEnd()).length, 0);
});

Deno.test("handleBind() sends data the client wrote before the peer arrived", async () => {
  await using s = await startServer();
  const binding = await bind({ host: "0.0.0.0", port: 0 }, { proxy: s.addr });
  using client = new RawClient(binding.conn);
  await client.send("01 02 03");
  using peer = new RawClient(
    await Deno.connect({
      hostname: binding.bound.host,
      port: binding.bound.port,
    }),
  );
  await binding.peer;
  assert.equal(await peer.readHex(3), "01 02 03");
});

Deno.test("handleBind() refuses a peer other than DST.ADDR and times out with 06", async () => {
  await using s = await startServer({ timeouts: { bind: 300 } });
  // Only 127.0.0.2 may connect; the test connects from 127.0.0.1.
  const binding = await bind({ host: "127.0.0.2", port: 0 }, { proxy: s.addr });
  using stranger = new RawClient(
    await Deno.connect({
      hostname: binding.bound.host,
      port: binding.bound.port,
    }),
  );
  assert.equal(await stranger.closedByPeer(), true);
  await assert.rejects(
    binding.peer,
    (error: unknown) =>
      error instanceof SocksError && error.reply === Reply.TTL_EXPIRED,
  );
  const [line] = await s.sessions(1);
  assert.equal(line!.command, "bind");
  assert.equal(line!.reply, 0x06);
  assert.ok(s.logs.some((l) => l.msg === "bind peer refused"));
});

Deno.test("handleBind() closes its listener when the client leaves while waiting", async () => {
  await using s = await startServer();
  const binding = await bind({ host: "0.0.0.0", port: 0 }, { proxy: s.addr });
  binding.conn.close();
  await s.sessions(1);
  assert.equal(s.server.activeSessions, 0);
  // Nothing accepts any more: the kernel refuses (or resets) the attempt.
  await assert.rejects(
    Deno.connect({ hostname: binding.bound.host, port: binding.bound.port }),
    (error: unknown) =>
      error instanceof Deno.errors.ConnectionRefused ||
      error instanceof Deno.errors.ConnectionReset,
  );
});
