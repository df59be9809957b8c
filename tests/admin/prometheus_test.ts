/**
 * A real Prometheus (the Debian package) scrapes the admin listener of the
 * real server process, with the token, and PromQL returns the project's
 * series with the values of known traffic; promtool finds nothing to
 * complain about in the exposition.
 *
 * @module
 */

import assert from "node:assert/strict";
import { freePort } from "../../scripts/bench/free_port.ts";
import { connect } from "../../src/mod.ts";
import { findExecutable } from "../e2e/_client_tool.ts";
import { serverTest } from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { echoTarget, payload } from "../_helpers/targets.ts";
import { eventually } from "../_helpers/wait.ts";

const PROMETHEUS = findExecutable("prometheus", "apt-get install prometheus");
const PROMTOOL = findExecutable("promtool", "apt-get install prometheus");
const PASSWORD = "correct horse battery";
const WAIT_MS = 30_000;

/** Runs one PromQL instant query; returns its vector. */
async function query(
  base: string,
  promql: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const response = await fetch(
    `${base}/api/v1/query?query=${encodeURIComponent(promql)}`,
    { signal: AbortSignal.timeout(5_000) },
  );
  const body = await response.json();
  assert.equal(body.status, "success", JSON.stringify(body));
  return body.data.result;
}

/** Polls `promql` until `done` accepts its result, within WAIT_MS. */
async function until(
  base: string,
  promql: string,
  done: (result: Awaited<ReturnType<typeof query>>) => boolean,
): Promise<Awaited<ReturnType<typeof query>>> {
  let last: Awaited<ReturnType<typeof query>> = [];
  // A query that throws is Prometheus still starting: polled again.
  await eventually(
    async () => done(last = await query(base, promql)),
    () => `${promql}: still ${JSON.stringify(last)}`,
    { ms: WAIT_MS, every: 250 },
  );
  return last;
}

serverTest({
  name:
    "Prometheus scrapes --admin with its token and PromQL returns known traffic",
  ignore: PROMETHEUS.ignore,
  async fn(_t, command) {
    PROMETHEUS.assertAvailable();
    const dir = await Deno.makeTempDir({ prefix: "socks5-prometheus-" });
    let prometheus: Deno.ChildProcess | undefined;
    try {
      const token = `tok-${crypto.randomUUID()}`;
      await Deno.writeTextFile(`${dir}/token`, token);
      await using target = echoTarget();
      await using server = await ServerProcess.start({
        server: command,
        users: [`alice:${PASSWORD}`],
        args: ["--admin", "127.0.0.1:0", "--admin-token-file", `${dir}/token`],
      });
      const admin = new URL(
        (await server.waitForEvent("admin listening")).url as string,
      );
      // Known traffic: one CONNECT as alice, 1234 bytes each way.
      const { conn } = await connect(
        { host: "127.0.0.1", port: target.addr.port },
        {
          proxy: { hostname: "127.0.0.1", port: server.port },
          auth: { username: "alice", password: PASSWORD },
        },
      );
      const data = payload(1234, 3);
      await conn.write(data);
      const echoed = new Uint8Array(1234);
      let filled = 0;
      while (filled < 1234) {
        filled += (await conn.read(echoed.subarray(filled)))!;
      }
      assert.deepStrictEqual(echoed, data);
      conn.close();
      await server.waitForSessionCount(1);

      const exposition = await (await fetch(admin.href + "metrics", {
        headers: { authorization: `Bearer ${token}` },
      })).text();
      if (PROMTOOL.missing === undefined) {
        const check = new Deno.Command(PROMTOOL.command, {
          args: ["check", "metrics"],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const writer = check.stdin.getWriter();
        await writer.write(new TextEncoder().encode(exposition));
        await writer.close();
        const result = await check.output();
        const said = new TextDecoder().decode(result.stdout) +
          new TextDecoder().decode(result.stderr);
        assert.equal(result.code, 0, said);
        assert.equal(said, "");
      }

      const webPort = freePort();
      await Deno.writeTextFile(
        `${dir}/prometheus.yml`,
        [
          "global:",
          "  scrape_interval: 1s",
          "  scrape_timeout: 1s",
          "scrape_configs:",
          "  - job_name: socks5",
          "    authorization:",
          "      type: Bearer",
          `      credentials_file: ${dir}/token`,
          "    static_configs:",
          `      - targets: ["${admin.host}"]`,
          "",
        ].join("\n"),
      );
      prometheus = new Deno.Command(PROMETHEUS.command, {
        args: [
          `--config.file=${dir}/prometheus.yml`,
          `--storage.tsdb.path=${dir}/data`,
          `--web.listen-address=127.0.0.1:${webPort}`,
          "--log.level=warn",
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const base = `http://127.0.0.1:${webPort}`;
      const [up] = await until(
        base,
        'up{job="socks5"}',
        (r) => r.length === 1 && r[0]!.value[1] === "1",
      );
      assert.equal(up!.metric.instance, admin.host);
      const bytes = await until(
        base,
        'socks5_relayed_bytes_total{user="alice"}',
        (r) => r.length === 2,
      );
      assert.deepStrictEqual(
        bytes.map((r) => [r.metric.direction, r.metric.command, r.value[1]])
          .sort(),
        [["down", "connect", "1234"], ["up", "connect", "1234"]],
      );
      const [replies] = await query(
        base,
        'sum(socks5_replies_total{code="0",protocol="socks5"})',
      );
      assert.equal(replies!.value[1], "1");
      const [latency] = await query(
        base,
        "socks5_connect_duration_seconds_count",
      );
      assert.equal(latency!.value[1], "1");
      const [build] = await query(base, "socks5_build_info");
      assert.equal(
        build!.metric.runtime,
        command.name === "deno" ? "deno" : "bun",
      );
      const dropped = await query(base, "socks5_udp_dropped_total");
      assert.ok(dropped.length >= 8, JSON.stringify(dropped));
      assert.ok(dropped.every((r) => r.value[1] === "0"));
    } finally {
      if (prometheus) {
        prometheus.kill("SIGTERM");
        await prometheus.status;
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
