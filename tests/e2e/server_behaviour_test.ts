/**
 * What every runtime adapter must do the same, checked against the real
 * server process on each server command (Deno, Bun, the executable):
 * skipping accept failures of reset connections, the handshake deadline,
 * backpressure, graceful shutdown with a session in flight, and metrics.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { resetOnConnect } from "../_helpers/reset_clients.ts";
import { serverTest } from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { echoTarget, payload, tcpTarget } from "../_helpers/targets.ts";
import { readUntilClosed } from "../hardening/_bounded.ts";
import { sleep, within } from "../_helpers/wait.ts";

const HANG_MS = 15_000;

async function connectThrough(
  port: number,
  target: { port: number; hostname: string },
): Promise<RawClient> {
  const client = await RawClient.open({ hostname: "127.0.0.1", port });
  await client.send(`05 01 00 05 01 00 ${ipv4Hex(target)}`);
  assert.equal(await client.readHex(2), "05 00");
  assert.equal((await client.read(10))[1], 0x00);
  return client;
}

serverTest({
  name:
    "server skips accept failures of connections reset while it was frozen, without pausing",
  async fn(_t, command) {
    await using server = await ServerProcess.start({ server: command });
    await using target = echoTarget();
    // Frozen, the server cannot accept: the kernel completes the
    // handshakes, the resets land in the queue, and every one of them then
    // fails (or arrives dead) in accept.
    server.signal("SIGSTOP");
    let reset = 0;
    try {
      reset = await within(
        resetOnConnect(server.port, 100),
        HANG_MS,
        "resets",
      );
    } finally {
      server.signal("SIGCONT");
    }
    assert.equal(reset, 100);
    using client = await within(
      connectThrough(server.port, target.addr),
      HANG_MS,
      "a normal client after the resets",
    );
    await client.send("2a");
    assert.equal(await client.readHex(1), "2a");
    const skipped = await server.waitForEvent(
      "accept skipped a failed connection",
    );
    assert.equal(skipped.kind, "aborted");
    assert.ok(
      !server.events.some((e) => e.msg === "accept failed"),
      `the accept loop paused:\n${server.log}`,
    );
  },
});

serverTest({
  name: "server closes a silent client at the handshake deadline",
  async fn(_t, command) {
    await using server = await ServerProcess.start({
      server: command,
      args: ["--handshake-timeout", "300ms"],
    });
    using client = await RawClient.open({
      hostname: "127.0.0.1",
      port: server.port,
    });
    await client.send("05 01");
    const { bytes, end } = await within(
      readUntilClosed(client.conn),
      HANG_MS,
      "close",
    );
    assert.equal(bytes.length, 0);
    assert.ok(end === "eof" || end === "reset", end);
    const session = await server.waitForSession({ reply: null });
    assert.equal(session.command, null);
  },
});

serverTest({
  name:
    "server holds a download back while the client reads nothing and then delivers every byte",
  async fn(_t, command) {
    await using server = await ServerProcess.start({ server: command });
    const data = payload(16 << 20, 7);
    await using source = tcpTarget("127.0.0.1", async (conn) => {
      let written = 0;
      while (written < data.length) {
        written += await conn.write(data.subarray(written));
      }
    });
    using client = await connectThrough(server.port, source.addr);
    // The client stalls; the relay must stop reading from the source
    // rather than buffer 16 MiB, and go on when the client reads again.
    await sleep(500);
    const received = await within(
      readUntilClosed(client.conn, data.length + 1),
      HANG_MS,
      "download",
    );
    assert.equal(received.bytes.length, data.length);
    assert.deepEqual(received.bytes, data);
  },
});

serverTest({
  name: "server lets a session finish during the shutdown grace and exits 0",
  async fn(_t, command) {
    const server = await ServerProcess.start({
      server: command,
      args: ["--shutdown-grace", "10s"],
    });
    await using target = echoTarget();
    using client = await connectThrough(server.port, target.addr);
    server.signal("SIGTERM");
    await sleep(200);
    // Still relaying while it drains.
    await client.send("01 02 03");
    assert.equal(await client.readHex(3), "01 02 03");
    client.close();
    // The session ends by itself; the server then stops without a second
    // signal.
    await server.waitForEvent("stopped");
    await server.stop();
    const events = server.events;
    assert.ok(events.some((e) => e.msg === "draining"), server.log);
    assert.ok(
      !events.some((e) => e.msg === "closing sessions still running"),
      server.log,
    );
  },
});

serverTest({
  name:
    "--metrics (alias of --admin) serves Prometheus metrics that count a finished session",
  async fn(_t, command) {
    await using server = await ServerProcess.start({
      server: command,
      args: ["--metrics", "127.0.0.1:0"],
    });
    await using target = echoTarget();
    const client = await connectThrough(server.port, target.addr);
    await client.send("05");
    assert.equal(await client.readHex(1), "05");
    client.close();
    await server.waitForSession({ command: "connect", reply: 0 });
    const url = (await server.waitForEvent("metrics listening")).url as string;
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.match(
      response.headers.get("content-type") ?? "",
      /^text\/plain; version=0\.0\.4/,
    );
    const text = await response.text();
    assert.match(text, /^socks5_sessions_total 1$/m);
    assert.match(
      text,
      /^socks5_replies_total\{protocol="socks5",command="connect",code="0"\} 1$/m,
    );
    assert.equal((await fetch(url.replace("/metrics", "/nope"))).status, 404);
  },
});

serverTest({
  name: "server closes running sessions at once when a second SIGTERM comes",
  async fn(_t, command) {
    const server = await ServerProcess.start({
      server: command,
      args: ["--shutdown-grace", "60s"],
    });
    await using target = echoTarget();
    using client = await connectThrough(server.port, target.addr);
    server.signal("SIGTERM");
    await server.waitForEvent("draining");
    server.signal("SIGTERM");
    const { end } = await within(
      readUntilClosed(client.conn),
      HANG_MS,
      "session closed",
    );
    assert.ok(end === "eof" || end === "reset", end);
    await server.waitForEvent("stopped");
    await server.stop();
    assert.ok(
      server.events.some((e) => e.msg === "closing sessions still running"),
      server.log,
    );
  },
});
