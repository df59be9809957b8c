/**
 * proxychains4 forces a client with no SOCKS code of its own (OpenBSD
 * netcat) through the real server by hooking its connect() call.
 */
import { serverTest } from "../_helpers/server_commands.ts";
import assert from "node:assert/strict";
import { findExecutable } from "./_client_tool.ts";
import { assertSucceeded, runCommand } from "./_run_command.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { startTcpEcho } from "./_tcp_targets.ts";

const proxychains = findExecutable(
  "proxychains4",
  "apt-get install proxychains4",
);
const netcat = findExecutable("nc.openbsd", "apt-get install netcat-openbsd");

serverTest({
  name:
    "proxychains4 relays netcat's connection when the client has no SOCKS support",
  ignore: proxychains.ignore || netcat.ignore,
  async fn(_t, command) {
    proxychains.assertAvailable();
    netcat.assertAvailable();
    await using server = await ServerProcess.start({ server: command });
    await using echo = startTcpEcho("127.0.0.1");
    const dir = await Deno.makeTempDir({ prefix: "socks5-e2e-proxychains-" });
    try {
      const config = `${dir}/proxychains.conf`;
      // proxy_dns is left out: the target is an IP literal, and proxychains'
      // fake-DNS mode would otherwise hand netcat 224.x addresses.
      await Deno.writeTextFile(
        config,
        [
          "strict_chain",
          "quiet_mode",
          "tcp_read_time_out 15000",
          "tcp_connect_time_out 8000",
          "[ProxyList]",
          `socks5 127.0.0.1 ${server.port}`,
          "",
        ].join("\n"),
      );
      const payload = `proxychains payload ${crypto.randomUUID()}\n`.repeat(
        100,
      );
      // -N: shut down the socket after stdin's EOF, so the echo server's FIN
      // ends the run; -w bounds idle time should the relay stall.
      const result = await runCommand(proxychains.command, [
        "-q",
        "-f",
        config,
        netcat.command,
        "-N",
        "-w",
        "10",
        "127.0.0.1",
        String(echo.port),
      ], { stdin: payload, timeoutMs: 20_000 });
      assertSucceeded(result, "proxychains4 nc");
      assert.equal(result.stdoutText, payload);
      const session = await server.waitForSession({
        command: "connect",
        destination: { host: "127.0.0.1", port: echo.port },
      });
      assert.equal(session.reply, 0);
      assert.equal(session.bytesUp, payload.length);
      assert.equal(session.bytesDown, payload.length);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

serverTest({
  name:
    "proxychains4 relays netcat's connection through socks4 and http entries",
  ignore: proxychains.ignore || netcat.ignore,
  async fn(t, command) {
    proxychains.assertAvailable();
    netcat.assertAvailable();
    await using server = await ServerProcess.start({ server: command });
    const dir = await Deno.makeTempDir({ prefix: "socks5-e2e-proxychains-" });
    try {
      for (const [type, protocol] of [["socks4", "socks4"], ["http", "http"]]) {
        await t.step(`${type} entry`, async () => {
          // A target of its own, so the session is told apart by its port.
          await using echo = startTcpEcho("127.0.0.1");
          const config = `${dir}/${type}.conf`;
          await Deno.writeTextFile(
            config,
            [
              "strict_chain",
              "quiet_mode",
              "tcp_read_time_out 15000",
              "tcp_connect_time_out 8000",
              "[ProxyList]",
              `${type} 127.0.0.1 ${server.port}`,
              "",
            ].join("\n"),
          );
          const payload = `${type} payload ${crypto.randomUUID()}\n`.repeat(50);
          const result = await runCommand(proxychains.command, [
            "-q",
            "-f",
            config,
            netcat.command,
            "-N",
            "-w",
            "10",
            "127.0.0.1",
            String(echo.port),
          ], { stdin: payload, timeoutMs: 20_000 });
          assertSucceeded(result, `proxychains4 (${type}) nc`);
          assert.equal(result.stdoutText, payload);
          const session = await server.waitForSession({
            command: "connect",
            destination: { host: "127.0.0.1", port: echo.port },
            protocol,
          });
          assert.equal(session.reply, 0);
          assert.equal(session.bytesUp, payload.length);
          assert.equal(session.bytesDown, payload.length);
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
