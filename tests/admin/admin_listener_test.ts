/**
 * The admin listener of the real server process (Deno, Bun, the
 * executable): sessions in progress, metrics after known traffic, merged
 * over workers, readiness while draining, the token.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect } from "../../src/mod.ts";
import type { Connection } from "../../src/runtime/transport.ts";
import { runToExit, serverTest } from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { echoTarget, payload } from "../_helpers/targets.ts";

const PASSWORD = "correct horse battery";

/** Opens a CONNECT as `user` and echoes `size` bytes through it. */
async function echoSession(
  proxyPort: number,
  targetPort: number,
  size: number,
  user?: string,
): Promise<Connection> {
  const { conn } = await connect({ host: "127.0.0.1", port: targetPort }, {
    proxy: { hostname: "127.0.0.1", port: proxyPort },
    ...(user ? { auth: { username: user, password: PASSWORD } } : {}),
  });
  const data = payload(size, size);
  const writing = conn.write(data);
  const echoed = new Uint8Array(size);
  let filled = 0;
  while (filled < size) {
    const n = await conn.read(echoed.subarray(filled));
    if (n === null) throw new Error(`EOF after ${filled} bytes`);
    filled += n;
  }
  await writing;
  assert.deepStrictEqual(echoed, data);
  return conn;
}

/** The value of one exact series line, or `undefined`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function adminUrl(server: ServerProcess): Promise<string> {
  return (await server.waitForEvent("admin listening")).url as string;
}

serverTest({
  name: "--admin lists sessions in progress and counts known traffic per user",
  async fn(_t, command) {
    await using target = echoTarget();
    await using server = await ServerProcess.start({
      server: command,
      users: [`alice:${PASSWORD}`, `bob:${PASSWORD}`],
      args: ["--admin", "127.0.0.1:0"],
    });
    const base = await adminUrl(server);
    const alice = await echoSession(
      server.port,
      target.addr.port,
      3000,
      "alice",
    );
    const bob = await echoSession(server.port, target.addr.port, 500, "bob");
    const sessions = await (await fetch(`${base}api/sessions`)).json();
    assert.deepStrictEqual(
      sessions.map((s: Record<string, unknown>) => [
        s.user,
        s.protocol,
        s.command,
        s.destination,
        s.bytesUp,
        s.bytesDown,
      ]).sort(),
      [
        [
          "alice",
          "socks5",
          "connect",
          `127.0.0.1:${target.addr.port}`,
          3000,
          3000,
        ],
        ["bob", "socks5", "connect", `127.0.0.1:${target.addr.port}`, 500, 500],
      ],
    );
    const live = await (await fetch(`${base}metrics`)).text();
    const up = (user: string) =>
      `socks5_relayed_bytes_total{direction="up",protocol="socks5",command="connect",user="${user}"}`;
    assert.equal(sample(live, up("alice")), 3000, live);
    assert.equal(sample(live, "socks5_sessions_active"), 2);
    alice.close();
    bob.close();
    await server.waitForSessionCount(2);
    const response = await fetch(`${base}metrics`);
    assert.match(
      response.headers.get("content-type")!,
      /^text\/plain; version=0\.0\.4/,
    );
    const text = await response.text();
    assert.equal(sample(text, up("alice")), 3000, text);
    assert.equal(sample(text, up("bob")), 500);
    assert.equal(
      sample(
        text,
        'socks5_requests_total{protocol="socks5",command="connect",user="alice"}',
      ),
      1,
    );
    assert.equal(
      sample(
        text,
        'socks5_replies_total{protocol="socks5",command="connect",code="0"}',
      ),
      2,
    );
    assert.equal(sample(text, "socks5_sessions_total"), 2);
    assert.equal(sample(text, "socks5_sessions_active"), 0);
    assert.equal(sample(text, "socks5_connect_duration_seconds_count"), 2);
    assert.equal(sample(text, "socks5_session_duration_seconds_count"), 2);
    // Present from the start, at 0.
    assert.equal(
      sample(text, 'socks5_udp_dropped_total{reason="unsolicited"}'),
      0,
    );
    assert.equal(
      sample(text, 'socks5_sessions_rejected_total{reason="max_sessions"}'),
      0,
    );
    const runtime = command.name === "deno" ? "deno" : "bun";
    assert.match(
      text,
      new RegExp(
        `^socks5_build_info\\{version="[\\d.]+",runtime="${runtime}",runtime_version="[^"]+"\\} 1$`,
        "m",
      ),
    );
    assert.ok(sample(text, "process_resident_memory_bytes")! > 1_000_000);
    assert.ok(sample(text, "socks5_heap_used_bytes")! > 100_000);
    // Not compared with the used figure: JavaScriptCore's total can be less.
    assert.ok(sample(text, "socks5_heap_total_bytes")! > 100_000);
    assert.ok(sample(text, "socks5_external_memory_bytes")! >= 0);
    assert.ok(sample(text, "process_cpu_seconds_total")! > 0);
    assert.ok(
      sample(text, "process_start_time_seconds")! <= Date.now() / 1000,
    );
    if (command.name === "deno") {
      // Deno lets only --allow-all read /proc/self: the series is left out.
      assert.equal(sample(text, "process_open_fds"), undefined);
    } else {
      assert.ok(sample(text, "process_open_fds")! > 3);
      assert.ok(sample(text, "process_max_fds")! >= 64);
    }
    assert.equal((await fetch(`${base}healthz`)).status, 200);
    assert.equal(await (await fetch(`${base}readyz`)).text(), "ready\n");
  },
});

serverTest({
  name: "--admin answers /readyz 503 while the server drains a session",
  async fn(_t, command) {
    await using target = echoTarget();
    const server = await ServerProcess.start({
      server: command,
      args: ["--admin", "127.0.0.1:0", "--shutdown-grace", "60s"],
    });
    try {
      const base = await adminUrl(server);
      const conn = await echoSession(server.port, target.addr.port, 10);
      server.signal("SIGTERM");
      await server.waitForEvent("draining");
      const ready = await fetch(`${base}readyz`);
      assert.equal(ready.status, 503);
      assert.equal(await ready.text(), "draining\n");
      assert.equal((await fetch(`${base}healthz`)).status, 200);
      conn.close();
    } finally {
      await server.stop();
    }
  },
});

serverTest({
  name: "--admin merges metrics and sessions over --workers",
  async fn(_t, command) {
    await using target = echoTarget();
    await using server = await ServerProcess.start({
      server: command,
      args: ["--admin", "127.0.0.1:0", "--workers", "2"],
    });
    const base = await adminUrl(server);
    const conns: Connection[] = [];
    for (let i = 1; i <= 8; i++) {
      conns.push(await echoSession(server.port, target.addr.port, 100 * i));
    }
    const sessions = await (await fetch(`${base}api/sessions`)).json();
    assert.equal(sessions.length, 8);
    const text = await (await fetch(`${base}metrics`)).text();
    const up =
      'socks5_relayed_bytes_total{direction="up",protocol="socks5",command="connect",user=""}';
    assert.equal(sample(text, up), 3600, text);
    assert.equal(sample(text, "socks5_sessions_active"), 8);
    assert.equal(sample(text, "socks5_sessions_total"), 8);
    // One process: its metrics once, not once per worker.
    assert.equal(text.match(/^socks5_build_info/gm)?.length, 1);
    assert.equal(text.match(/^process_resident_memory_bytes/gm)?.length, 1);
    for (const conn of conns) conn.close();
    await server.waitForSessionCount(8);
    const after = await (await fetch(`${base}metrics`)).text();
    assert.equal(sample(after, up), 3600);
    assert.equal(sample(after, "socks5_session_duration_seconds_count"), 8);
  },
});

serverTest({
  name:
    "--admin with a token refuses requests without it and accepts bearer and basic auth",
  async fn(_t, command) {
    const dir = await Deno.makeTempDir();
    try {
      const token = "t0ken-" + crypto.randomUUID();
      await Deno.writeTextFile(`${dir}/token`, `${token}\n`);
      await using server = await ServerProcess.start({
        server: command,
        args: ["--admin", "127.0.0.1:0", "--admin-token-file", `${dir}/token`],
      });
      const base = await adminUrl(server);
      const plain = await fetch(`${base}metrics`);
      assert.equal(plain.status, 401);
      await plain.body?.cancel();
      const bearer = await fetch(`${base}metrics`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(bearer.status, 200);
      assert.match(await bearer.text(), /^socks5_sessions_total 0$/m);
      const basic = await fetch(`${base}api/sessions`, {
        headers: { authorization: `Basic ${btoa(`prometheus:${token}`)}` },
      });
      assert.equal(basic.status, 200);
      assert.deepStrictEqual(await basic.json(), []);
      assert.equal((await fetch(`${base}healthz`)).status, 200);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

serverTest({
  name: "--admin on a non-loopback address without a token does not start",
  async fn(_t, command) {
    const { code, stderr } = await runToExit(command, [
      "--listen",
      "127.0.0.1:0",
      "--admin",
      "0.0.0.0:0",
    ]);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /cannot serve the admin listener/);
    assert.match(stderr, /without a token/);
  },
});
