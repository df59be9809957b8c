/**
 * The limits in the real server process (Deno, Bun, the executable): a
 * bandwidth limit holds on Bun too (its splice fast path is bypassed), and
 * per-user session limits hold across `--workers`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect, type Connection } from "../../src/mod.ts";
import { serverTest } from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { echoTarget, payload, sourceTarget } from "../_helpers/targets.ts";

async function readAll(conn: Connection, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let have = 0;
  while (have < length) {
    const n = await conn.read(out.subarray(have));
    if (n === null) break;
    have += n;
  }
  return out.subarray(0, have);
}

serverTest({
  name: "--session-download-rate 256KiB: a 1 MiB download takes at least 3.5 s",
  async fn(_t, server) {
    const bytes = payload(1024 * 1024, 11);
    await using target = sourceTarget(bytes);
    await using proxy = await ServerProcess.start({
      server,
      args: ["--session-download-rate", "256KiB"],
    });
    const started = performance.now();
    const { conn } = await connect(
      { host: "127.0.0.1", port: target.addr.port },
      { proxy: { hostname: "127.0.0.1", port: proxy.port } },
    );
    const received = await readAll(conn, bytes.length);
    const elapsed = performance.now() - started;
    conn.close();
    assert.deepStrictEqual(received, bytes);
    assert.ok(elapsed >= 3_500, `took ${elapsed.toFixed(0)} ms`);
  },
});

serverTest({
  name: "--max-sessions-per-user holds across --workers 2",
  async fn(_t, server) {
    await using target = echoTarget();
    await using proxy = await ServerProcess.start({
      server,
      users: ["alice:pw"],
      args: ["--workers", "2", "--max-sessions-per-user", "3"],
    });
    const open = () =>
      connect({ host: "127.0.0.1", port: target.addr.port }, {
        proxy: { hostname: "127.0.0.1", port: proxy.port },
        auth: { username: "alice", password: "pw" },
      });
    const held = [await open(), await open(), await open()];
    // However the kernel spreads the next ones over the workers, each is
    // refused: the count is the process's.
    for (let i = 0; i < 8; i++) await assert.rejects(open(), /not allowed/);
    held.pop()!.conn.close();
    await proxy.waitForSession({ user: "alice", reply: 0 });
    const again = await open();
    again.conn.close();
    for (const { conn } of held) conn.close();
  },
});
