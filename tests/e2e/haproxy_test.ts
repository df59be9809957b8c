/**
 * A small fleet: HAProxy in TCP mode balances two server instances on
 * loopback and tells each the real client with `send-proxy-v2`. The client
 * connects from 127.0.0.2 and HAProxy from 127.0.0.3 (the only source the
 * servers trust), so the access logs prove the servers took the client's
 * address from the PROXY header, port included, for every protocol on the
 * port, and that traffic was spread over both instances.
 */
import { serverTest } from "../_helpers/server_commands.ts";
import assert from "node:assert/strict";
import { freePort } from "../../scripts/bench/free_port.ts";
import { findExecutable } from "./_client_tool.ts";
import { HELLO_BODY, startHttpTarget } from "./_http_target.ts";
import { assertSucceeded, runCommand } from "./_run_command.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { eventually } from "../_helpers/wait.ts";

const haproxy = findExecutable("haproxy", "apt-get install haproxy");
const curl = findExecutable("curl", "apt-get install curl");

const CLIENT_IP = "127.0.0.2";
const BALANCER_IP = "127.0.0.3";

/** HAProxy's configuration: TCP mode, round robin, PROXY protocol v2. */
function _config(port: number, backends: number[]): string {
  return [
    "global",
    "  log stderr format raw local0 info",
    "defaults",
    "  mode tcp",
    "  log global",
    "  option tcplog",
    "  timeout connect 5s",
    "  timeout client 30s",
    "  timeout server 30s",
    "frontend socks",
    `  bind 127.0.0.1:${port}`,
    "  default_backend fleet",
    "backend fleet",
    "  balance roundrobin",
    `  source ${BALANCER_IP}`,
    ...backends.map((p, i) =>
      `  server s${i + 1} 127.0.0.1:${p} send-proxy-v2`
    ),
    "",
  ].join("\n");
}

/**
 * Whether something listens on 127.0.0.1:`port`, read from /proc/net/tcp
 * (state 0A), so that checking opens no connection HAProxy would balance.
 * Read through `cat`: the test runs with --allow-run, and reading /proc
 * directly needs --allow-all.
 */
async function _listening(port: number): Promise<boolean> {
  const wanted = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const table = (await runCommand("cat", ["/proc/net/tcp"])).stdoutText;
  return table.split("\n").some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1] === wanted && fields[3] === "0A";
  });
}

serverTest({
  name:
    "HAProxy with send-proxy-v2 spreads clients over two instances, which log the real client address",
  ignore: haproxy.ignore || curl.ignore,
  async fn(_t, command) {
    haproxy.assertAvailable();
    curl.assertAvailable();
    const trust = ["--proxy-protocol-from", `${BALANCER_IP}/32`];
    await using first = await ServerProcess.start({
      server: command,
      args: trust,
    });
    await using second = await ServerProcess.start({
      server: command,
      args: trust,
    });
    await using target = await startHttpTarget({ hostname: "127.0.0.1" });
    const dir = await Deno.makeTempDir({ prefix: "socks5-e2e-haproxy-" });
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/haproxy.cfg`,
      _config(port, [first.port, second.port]),
    );
    const balancer = new Deno.Command(haproxy.command, {
      args: ["-db", "-f", `${dir}/haproxy.cfg`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const balancerLog = new Response(balancer.stderr).text();
    const balancerOut = new Response(balancer.stdout).text();
    try {
      await eventually(
        () => _listening(port),
        `HAProxy listening on ${port}`,
        { ms: 5_000, every: 25 },
      );

      const proxy = `127.0.0.1:${port}`;
      const clients = [
        ["--socks5", proxy],
        ["--socks4", proxy],
        ["-x", `http://${proxy}`],
        ["-x", `http://${proxy}`, "--proxytunnel"],
        ["--socks5-hostname", proxy],
        ["--socks4a", proxy],
      ];
      const clientPorts: number[] = [];
      for (const args of clients) {
        const result = await runCommand(curl.command, [
          "--disable",
          "--silent",
          "--show-error",
          "--fail",
          "--max-time",
          "20",
          "--interface",
          CLIENT_IP,
          "--write-out",
          "%{local_ip} %{local_port}",
          ...args,
          `${target.origin}/hello`,
        ]);
        assertSucceeded(result, `curl ${args.join(" ")} via HAProxy`);
        // The body ends with a newline; --write-out follows it.
        const cut = result.stdoutText.lastIndexOf("\n") + 1;
        const body = result.stdoutText.slice(0, cut);
        const local = result.stdoutText.slice(cut);
        assert.equal(body, HELLO_BODY);
        const [ip, localPort] = local.split(" ");
        assert.equal(ip, CLIENT_IP);
        clientPorts.push(Number(localPort));
      }

      // Round robin over equal servers alternates: three sessions each.
      await first.waitForSessionCount(3);
      await second.waitForSessionCount(3);
      const sessions = [...first.sessions, ...second.sessions];
      assert.equal(sessions.length, clients.length);
      assert.deepEqual(
        sessions.map((s) => s.client).sort(),
        clientPorts.map((p) => `${CLIENT_IP}:${p}`).sort(),
        "each server logged the client's own address and port",
      );
      for (const session of sessions) assert.equal(session.reply, 0);
      assert.deepEqual(
        new Set(sessions.map((s) => s.protocol)),
        new Set(["socks5", "socks4", "http"]),
      );
    } finally {
      balancer.kill("SIGTERM");
      const status = await balancer.status;
      await balancerOut;
      const log = await balancerLog;
      await Deno.remove(dir, { recursive: true });
      assert.ok(status.signal === "SIGTERM" || status.success, log);
    }
  },
});
