/**
 * Faults on either side at every stage: the target resets mid-transfer; the
 * client leaves mid-handshake, during the CONNECT dial, mid-relay and while
 * BIND waits. The other side is closed promptly (bounded by a generous hang
 * detector, or by the stage's own deadline where nothing can notice sooner),
 * the session count returns to zero, and an unhandled rejection or uncaught
 * exception would fail the run.
 *
 * @module
 */

import type { Connection } from "../../src/runtime/transport.ts";
import assert from "node:assert/strict";
import { bind } from "../../src/mod.ts";
import { connect } from "../../src/mod.ts";
import { dialingThrough, type FakeDialer } from "../_helpers/fake_network.ts";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { payload, tcpTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import { closeAll, readUntilClosed } from "./_bounded.ts";
import { eventually, within } from "../_helpers/wait.ts";

const HANG_MS = 10_000;

/** Resolves when `conn` reaches EOF or an error (the other side closed). */
async function untilEnded(conn: Connection): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  for (let i = 0; i < 1_000_000; i++) {
    try {
      if ((await conn.read(buffer)) === null) return;
    } catch {
      return;
    }
  }
}

/** Writes until the connection fails (bounded in count). */
async function firehose(conn: Connection): Promise<void> {
  const chunk = payload(64 * 1024, 3);
  for (let i = 0; i < 100_000; i++) {
    try {
      await conn.write(chunk);
    } catch {
      return;
    }
  }
}

async function connectThrough(
  proxy: Deno.NetAddr,
  target: Deno.NetAddr,
): Promise<RawClient> {
  const client = await RawClient.open(proxy);
  await client.send(`05 01 00 05 01 00 ${ipv4Hex(target)}`);
  assert.equal(await client.readHex(2), "05 00");
  assert.equal((await client.read(10))[1], 0x00);
  return client;
}

Deno.test("relay closes the client promptly when the target resets mid-transfer", async (t) => {
  await t.step("while the client uploads", async () => {
    // Reads 10 KiB, then closes with unread input: the kernel sends RST.
    await using target = tcpTarget("127.0.0.1", async (conn) => {
      const buffer = new Uint8Array(10 * 1024);
      let got = 0;
      while (got < buffer.length) {
        const n = await conn.read(buffer.subarray(got));
        if (n === null) return;
        got += n;
      }
    });
    await using s = await startServer();
    using client = await connectThrough(s.addr, target.addr);
    const uploading = (async () => {
      const data = payload(64 * 1024, 1);
      for (let i = 0; i < 1_000; i++) await client.conn.write(data);
    })().catch(() => "closed");
    assert.equal(await within(uploading, HANG_MS, "upload to fail"), "closed");
    await eventually(() => s.server.activeSessions === 0, "session ended");
  });
  await t.step(
    "while the client downloads: it gets a clean prefix, then the close",
    async () => {
      const stream = payload(4 << 20, 8);
      await using target = tcpTarget("127.0.0.1", async (conn) => {
        // Unread input makes the close a reset.
        await conn.read(new Uint8Array(1));
        await conn.write(stream.subarray(0, 1 << 20));
      });
      await using s = await startServer();
      using client = await connectThrough(s.addr, target.addr);
      await client.send("01 02 03 04");
      const { bytes } = await within(
        readUntilClosed(client.conn, stream.length),
        HANG_MS,
        "client closed",
      );
      // Whatever arrived is exactly what the target sent, in order.
      assert.ok(bytes.length <= 1 << 20);
      assert.deepEqual(bytes, stream.subarray(0, bytes.length));
      await eventually(() => s.server.activeSessions === 0, "session ended");
    },
  );
});

Deno.test("session ends cleanly when the client leaves mid-handshake, at every stage", async (t) => {
  await using s = await startServer({ users: { alice: "wonderland" } });
  const stages: Array<[string, string, boolean]> = [
    ["mid-greeting", "05 02", false],
    ["after the greeting, answer unread (reset)", "05 01 02", false],
    ["after the greeting, answer read", "05 01 02", true],
    ["mid-login", "05 01 02 01 05 61 6c 69", false],
    [
      "mid-request",
      "05 01 02 01 05 61 6c 69 63 65 0a 77 6f 6e 64 65 72 6c 61 6e 64 05 01 00 01 7f",
      false,
    ],
  ];
  let ended = 0;
  for (const [name, bytes, readFirst] of stages) {
    await t.step(name, async () => {
      {
        using client = await RawClient.open(s.addr);
        await client.send(bytes);
        if (readFirst) await client.read(2);
      }
      ended++;
      await s.sessions(ended);
      await eventually(() => s.server.activeSessions === 0, "session ended");
    });
  }
  assert.deepEqual(s.logs.filter((l) => l.level === "error"), []);
  assert.equal(s.metrics.get("sessions_active"), 0);
});

Deno.test("handleConnect() does not leak the dial when the client leaves during it", async (t) => {
  await t.step(
    "a dial that never completes is aborted at the connect deadline",
    async () => {
      const aborted: unknown[] = [];
      const hanging: FakeDialer = {
        dial: (_h, _p, signal) =>
          new Promise((_, reject) =>
            signal.addEventListener("abort", () => {
              aborted.push(signal.reason);
              reject(signal.reason);
            }, { once: true })
          ),
      };
      await using s = await startServer({
        network: dialingThrough(hanging),
        timeouts: { connect: 300 },
      });
      const clients = await Promise.all(Array.from({ length: 10 }, async () => {
        const client = await RawClient.open(s.addr);
        await client.send("05 01 00 05 01 00 01 7f 00 00 01 00 50");
        await client.read(2);
        return client;
      }));
      closeAll(clients);
      await within(s.sessions(10), HANG_MS, "sessions ended");
      await eventually(() => s.server.activeSessions === 0, "sessions ended");
      assert.equal(aborted.length, 10);
    },
  );
  await t.step(
    "a dial that completes after the client left closes the target at once",
    async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => release = resolve);
      const targetEnded: Promise<void>[] = [];
      await using target = tcpTarget("127.0.0.1", (conn) => {
        const ended = untilEnded(conn);
        targetEnded.push(ended);
        return ended;
      });
      const gated: FakeDialer = {
        dial: async (hostname, port, signal) => {
          await gate;
          return Deno.connect({ hostname, port, signal });
        },
      };
      await using s = await startServer({ network: dialingThrough(gated) });
      {
        using client = await RawClient.open(s.addr);
        await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)} 68 69`);
        await client.read(2);
      }
      release();
      await eventually(() => targetEnded.length === 1, "target connected");
      await within(targetEnded[0]!, HANG_MS, "target connection closed");
      await within(s.sessions(1), HANG_MS, "session ended");
      await eventually(() => s.server.activeSessions === 0, "session ended");
    },
  );
});

Deno.test("relay closes the target promptly when the client disconnects mid-relay", async () => {
  const ended: Promise<void>[] = [];
  await using target = tcpTarget("127.0.0.1", (conn) => {
    const done = firehose(conn);
    ended.push(done);
    return done;
  });
  await using s = await startServer();
  const clients = await Promise.all(
    Array.from({ length: 10 }, () => connectThrough(s.addr, target.addr)),
  );
  // Read a little so data is in flight, then leave with unread input.
  await Promise.all(clients.map((c) => c.read(100_000)));
  closeAll(clients);
  await eventually(() => ended.length === 10, "targets connected");
  await within(Promise.all(ended), HANG_MS, "targets closed");
  await within(s.sessions(10), HANG_MS, "sessions ended");
  await eventually(() => s.server.activeSessions === 0, "sessions ended");
});

Deno.test("handleBind() ends cleanly when clients leave while it waits, and when either side leaves mid-relay", async (t) => {
  await t.step("twenty clients leave while BIND waits", async () => {
    await using s = await startServer();
    const bindings = await Promise.all(
      Array.from(
        { length: 20 },
        () => bind({ host: "0.0.0.0", port: 0 }, { proxy: s.addr }),
      ),
    );
    closeAll(bindings.map((b) => b.conn));
    await within(s.sessions(20), HANG_MS, "sessions ended");
    await eventually(() => s.server.activeSessions === 0, "sessions ended");
    for (const binding of bindings) {
      await assert.rejects(binding.peer);
      // The listener is gone: nothing accepts there any more.
      await assert.rejects(
        Deno.connect({
          hostname: binding.bound.host,
          port: binding.bound.port,
        }),
      );
    }
  });
  for (const leaver of ["client", "peer"] as const) {
    await t.step(
      `the ${leaver} leaves mid-relay: the other side is closed`,
      async () => {
        await using s = await startServer();
        const binding = await bind({ host: "0.0.0.0", port: 0 }, {
          proxy: s.addr,
        });
        const peer = await Deno.connect({
          hostname: binding.bound.host,
          port: binding.bound.port,
        });
        await binding.peer;
        const [leaving, staying] = leaver === "client"
          ? [binding.conn, peer]
          : [peer, binding.conn];
        const streaming = firehose(staying);
        await leaving.read(new Uint8Array(50_000));
        leaving.close(); // with unread input: a reset
        await within(
          streaming,
          HANG_MS,
          `${leaver === "client" ? "peer" : "client"} closed`,
        );
        staying.close();
        await within(s.sessions(1), HANG_MS, "session ended");
        await eventually(() => s.server.activeSessions === 0, "session ended");
      },
    );
  }
});

Deno.test("a failed CONNECT through the library client leaves nothing behind", async () => {
  // The client library's own error path: a refused destination, many at once.
  const port = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = l.addr.port;
    l.close();
    return p;
  })();
  await using s = await startServer();
  const results = await Promise.allSettled(
    Array.from(
      { length: 20 },
      () => connect({ host: "127.0.0.1", port }, { proxy: s.addr }),
    ),
  );
  assert.ok(results.every((r) => r.status === "rejected"));
  await within(s.sessions(20), HANG_MS, "sessions ended");
  await eventually(() => s.server.activeSessions === 0, "sessions ended");
});
