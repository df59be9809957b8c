/**
 * PySocks (Debian's python3-socks), an independent SOCKS5 client, through the
 * real server: a 1 MiB byte-exact echo and a TCP half-close.
 */
import { serverTest } from "../_helpers/server_commands.ts";
import assert from "node:assert/strict";
import { findPySocks } from "./_client_tool.ts";
import { assertSucceeded, runCommand } from "./_run_command.ts";
import { REPO_ROOT, ServerProcess } from "../_helpers/server_process.ts";
import { startHalfCloseTarget, startTcpEcho } from "./_tcp_targets.ts";

const python = findPySocks();
const SCRIPTS = `${REPO_ROOT}tests/e2e/python/`;

/** What pysocks_echo.py prints. */
interface EchoResult {
  sent: number;
  received: number;
  sentSha256: string;
  receivedSha256: string;
  equal: boolean;
}

/** What pysocks_half_close.py prints. */
interface HalfCloseResult {
  sent: number;
  sentSha256: string;
  answer: string;
}

serverTest({
  name: "PySocks echoes 1 MiB byte-exact when relayed to a TCP echo server",
  ignore: python.ignore,
  async fn(_t, command) {
    python.assertAvailable();
    const size = 1024 * 1024;
    await using server = await ServerProcess.start({ server: command });
    await using echo = startTcpEcho("127.0.0.1");
    const result = await runCommand(python.command, [
      `${SCRIPTS}pysocks_echo.py`,
      "127.0.0.1",
      String(server.port),
      "127.0.0.1",
      String(echo.port),
      String(size),
    ]);
    assertSucceeded(result, "pysocks_echo.py");
    const echoed: EchoResult = JSON.parse(result.stdoutText);
    assert.equal(echoed.sent, size);
    assert.equal(echoed.received, size);
    assert.equal(echoed.receivedSha256, echoed.sentSha256);
    assert.ok(echoed.equal);
    const session = await server.waitForSession({
      command: "connect",
      destination: { host: "127.0.0.1", port: echo.port },
    });
    assert.equal(session.reply, 0);
    assert.equal(session.bytesUp, size);
    assert.equal(session.bytesDown, size);
  },
});

serverTest({
  name:
    "PySocks gets the answer when the target replies only after the client's FIN",
  ignore: python.ignore,
  async fn(_t, command) {
    python.assertAvailable();
    const size = 200_000;
    await using server = await ServerProcess.start({ server: command });
    await using target = startHalfCloseTarget("127.0.0.1");
    const result = await runCommand(python.command, [
      `${SCRIPTS}pysocks_half_close.py`,
      "127.0.0.1",
      String(server.port),
      "127.0.0.1",
      String(target.port),
      String(size),
    ], { timeoutMs: 20_000 });
    assertSucceeded(result, "pysocks_half_close.py");
    const got: HalfCloseResult = JSON.parse(result.stdoutText);
    const expected = `${size} ${got.sentSha256}\n`;
    assert.equal(got.sent, size);
    assert.equal(got.answer, expected);
    const session = await server.waitForSession({
      command: "connect",
      destination: { host: "127.0.0.1", port: target.port },
    });
    assert.equal(session.reply, 0);
    assert.equal(session.bytesUp, size);
    assert.equal(session.bytesDown, expected.length);
  },
});
