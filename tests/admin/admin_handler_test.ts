import assert from "node:assert/strict";
import {
  type AdminSource,
  createAdminHandler,
} from "../../src/admin/admin_handler.ts";
import { serveAdmin } from "../../src/admin/serve_admin.ts";
import { createConfigStatus } from "../../src/observability/config_status.ts";
import { MemoryMetrics } from "../../src/observability/metrics.ts";
import { connect } from "../../src/mod.ts";
import { denoRuntime } from "../../src/runtime/deno/runtime.ts";
import { echoTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";

const BUILD = { version: "9.9.9", runtime: "deno", runtimeVersion: "2.0.0" };
const TOKEN = "0123456789abcdef-token";

function handler(
  source: Partial<AdminSource> = {},
  token: string | null = null,
) {
  const metrics = new MemoryMetrics();
  return createAdminHandler({
    source: {
      dump: () => metrics.dump(),
      sessions: () => [],
      draining: () => false,
      ...source,
    },
    build: BUILD,
    config: { generation: 3, loadedAt: 1_700_000_000_000 },
    processStats: () => ({
      residentBytes: 12_345_678,
      heapUsedBytes: 4_000_000,
      heapTotalBytes: 6_000_000,
      externalBytes: 250_000,
      cpuSeconds: 1.5,
      startTimeSeconds: 1_699_999_999.7,
      openFds: 17,
      maxFds: 1024,
    }),
    token,
  });
}

function get(path: string, headers: Record<string, string> = {}) {
  return new Request(`http://127.0.0.1${path}`, { headers });
}

Deno.test("createAdminHandler() answers /healthz 200 and /readyz 503 only while draining", async () => {
  let draining = false;
  using admin = handler({ draining: () => draining });
  const health = await admin.handle(get("/healthz"));
  assert.equal(health.status, 200);
  assert.equal(await health.text(), "ok\n");
  const ready = await admin.handle(get("/readyz"));
  assert.equal(ready.status, 200);
  assert.equal(await ready.text(), "ready\n");
  draining = true;
  const notReady = await admin.handle(get("/readyz"));
  assert.equal(notReady.status, 503);
  assert.equal(await notReady.text(), "draining\n");
});

Deno.test("createAdminHandler() serves build_info, config and process metrics after the server's", async () => {
  using admin = handler();
  const response = await admin.handle(get("/metrics"));
  assert.match(
    response.headers.get("content-type")!,
    /^text\/plain; version=0\.0\.4/,
  );
  const text = await response.text();
  assert.match(
    text,
    /^socks5_build_info\{version="9\.9\.9",runtime="deno",runtime_version="2\.0\.0"\} 1$/m,
  );
  assert.match(text, /^socks5_config_generation 3$/m);
  assert.match(text, /^socks5_config_loaded_timestamp_seconds 1700000000$/m);
  assert.match(text, /^process_resident_memory_bytes 12345678$/m);
  assert.match(text, /^socks5_heap_used_bytes 4000000$/m);
  assert.match(text, /^socks5_heap_total_bytes 6000000$/m);
  assert.match(text, /^socks5_external_memory_bytes 250000$/m);
  assert.match(text, /^process_cpu_seconds_total 1\.5$/m);
  assert.match(text, /^process_start_time_seconds 1699999999$/m);
  assert.match(text, /^process_open_fds 17$/m);
  assert.match(text, /^process_max_fds 1024$/m);
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  assert.match(text, /^socks5_sessions_total 0$/m);
});

Deno.test("createAdminHandler() answers 404 for unknown paths and 405 for other methods", async () => {
  using admin = handler();
  assert.equal((await admin.handle(get("/nope"))).status, 404);
  const post = await admin.handle(
    new Request("http://127.0.0.1/metrics", { method: "POST" }),
  );
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
});

Deno.test("createAdminHandler() requires the token as bearer or basic password when one is set", async (t) => {
  using admin = handler({}, TOKEN);
  const basic = (user: string, password: string) =>
    `Basic ${btoa(`${user}:${password}`)}`;
  const cases: Array<[string, Record<string, string>, number]> = [
    ["no header", {}, 401],
    ["bearer", { authorization: `Bearer ${TOKEN}` }, 200],
    ["bearer, scheme in lower case", { authorization: `bearer ${TOKEN}` }, 200],
    ["wrong bearer", { authorization: `Bearer ${TOKEN}x` }, 401],
    ["token prefix", { authorization: `Bearer ${TOKEN.slice(0, 8)}` }, 401],
    ["basic, any user", { authorization: basic("ops", TOKEN) }, 200],
    ["basic, wrong password", { authorization: basic("ops", "nope") }, 401],
    ["basic, not base64", { authorization: "Basic %%%" }, 401],
    ["other scheme", { authorization: `Token ${TOKEN}` }, 401],
  ];
  for (const [name, headers, status] of cases) {
    await t.step(name, async () => {
      for (const path of ["/metrics", "/api/sessions", "/api/status", "/"]) {
        const response = await admin.handle(get(path, headers));
        assert.equal(response.status, status, path);
        if (status === 401) {
          assert.match(response.headers.get("www-authenticate")!, /^Basic /);
          assert.equal(await response.text(), "Unauthorized\n");
        } else {
          await response.body?.cancel();
        }
      }
    });
  }
  await t.step("probes stay open", async () => {
    assert.equal((await admin.handle(get("/healthz"))).status, 200);
    assert.equal((await admin.handle(get("/readyz"))).status, 200);
  });
});

Deno.test("createAdminHandler() lists a running session in /api/sessions and /api/status with its user and bytes", async () => {
  await using target = echoTarget();
  await using s = await startServer({ users: { alice: "correct horse" } });
  using admin = createAdminHandler({
    source: {
      dump: () => (s.metrics as MemoryMetrics).dump(s.server.trafficInFlight()),
      sessions: () => s.server.sessions(),
      draining: () => s.server.draining,
    },
    build: BUILD,
    config: createConfigStatus(),
  });
  const { conn } = await connect(
    { host: "127.0.0.1", port: target.addr.port },
    {
      proxy: { hostname: "127.0.0.1", port: s.addr.port },
      auth: { username: "alice", password: "correct horse" },
    },
  );
  await conn.write(new Uint8Array(1000).fill(7));
  const echoed = new Uint8Array(1000);
  let filled = 0;
  while (filled < 1000) filled += (await conn.read(echoed.subarray(filled)))!;
  const sessions = await (await admin.handle(get("/api/sessions"))).json();
  assert.equal(sessions.length, 1);
  const [row] = sessions;
  assert.equal(row.user, "alice");
  assert.equal(row.protocol, "socks5");
  assert.equal(row.command, "connect");
  assert.equal(row.destination, `127.0.0.1:${target.addr.port}`);
  assert.equal(row.stage, "command");
  assert.equal(row.bytesUp, 1000);
  assert.equal(row.bytesDown, 1000);
  assert.match(row.client, /^127\.0\.0\.1:\d+$/);
  assert.ok(row.ageSeconds >= 0);
  const status = await (await admin.handle(get("/api/status"))).json();
  assert.deepStrictEqual(status.users, [{
    user: "alice",
    active: 1,
    requests: 1,
    bytesUp: 1000,
    bytesDown: 1000,
  }]);
  assert.equal(status.totals.bytesUp, 1000);
  assert.equal(status.config.generation, 1);
  // Bytes in flight are in /metrics before the session ends, and counted
  // once after it ends.
  const line =
    'socks5_relayed_bytes_total{direction="up",protocol="socks5",command="connect",user="alice"} 1000';
  assert.ok(
    (await (await admin.handle(get("/metrics"))).text()).includes(line),
  );
  conn.close();
  await s.sessions(1);
  assert.ok(
    (await (await admin.handle(get("/metrics"))).text()).includes(line),
  );
  const after = await (await admin.handle(get("/api/status"))).json();
  assert.deepStrictEqual(after.replies, [
    { protocol: "socks5", code: "0", count: 1 },
  ]);
  assert.equal(after.sessions.length, 0);
});

Deno.test("serveAdmin() refuses a non-loopback address without a token", async () => {
  await assert.rejects(
    () =>
      serveAdmin(denoRuntime, { hostname: "0.0.0.0", port: 0 }, {
        source: {
          dump: () => new MemoryMetrics().dump(),
          sessions: () => [],
          draining: () => false,
        },
        build: BUILD,
        config: createConfigStatus(),
      }),
    (error: Error) =>
      error instanceof TypeError && /without a token/.test(error.message),
  );
});

Deno.test("serveAdmin() serves the status page over HTTP on loopback", async () => {
  await using admin = await serveAdmin(
    denoRuntime,
    { hostname: "127.0.0.1", port: 0 },
    {
      source: {
        dump: () => new MemoryMetrics().dump(),
        sessions: () => [],
        draining: () => false,
      },
      build: BUILD,
      config: createConfigStatus(),
    },
  );
  const response = await fetch(`http://127.0.0.1:${admin.addr.port}/`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^text\/html/);
  const html = await response.text();
  assert.match(html, /<table id="sessions">/);
  // No outside assets: no URL with a scheme or a protocol-relative one.
  assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//);
});
