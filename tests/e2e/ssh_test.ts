/**
 * SSH-style clients through the real server: OpenSSH with ncat as its
 * SOCKS5 ProxyCommand logging in to a throwaway local sshd, and ncat alone
 * as a plain SOCKS5 client.
 */
import { serverTest } from "../_helpers/server_commands.ts";
import assert from "node:assert/strict";
import { findExecutable } from "./_client_tool.ts";
import { assertSucceeded, runCommand } from "./_run_command.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { startSshd } from "./_sshd_target.ts";
import { startTcpEcho } from "./_tcp_targets.ts";

const ncat = findExecutable("ncat", "apt-get install ncat");
const ssh = findExecutable("ssh", "apt-get install openssh-client");
const sshKeygen = findExecutable(
  "ssh-keygen",
  "apt-get install openssh-client",
);
const sshd = findExecutable("/usr/sbin/sshd", "apt-get install openssh-server");

serverTest({
  name: "ssh runs a remote command when ncat tunnels it through the proxy",
  ignore: ncat.ignore || ssh.ignore || sshKeygen.ignore || sshd.ignore,
  async fn(_t, command) {
    for (const tool of [ncat, ssh, sshKeygen, sshd]) tool.assertAvailable();
    await using server = await ServerProcess.start({ server: command });
    await using target = await startSshd({
      sshd: sshd.command,
      sshKeygen: sshKeygen.command,
    });
    const token = `e2e-${crypto.randomUUID()}`;
    const result = await runCommand(ssh.command, [
      "-F",
      "/dev/null",
      "-i",
      target.clientKey,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "LogLevel=ERROR",
      "-o",
      "ConnectTimeout=10",
      "-o",
      `ProxyCommand=${ncat.command} --proxy 127.0.0.1:${server.port} --proxy-type socks5 %h %p`,
      "-p",
      String(target.port),
      `${target.user}@127.0.0.1`,
      "echo",
      token,
    ], { timeoutMs: 30_000 });
    assertSucceeded(result, `ssh (sshd log:\n${target.log()})`);
    assert.equal(result.stdoutText, `${token}\n`);
    const session = await server.waitForSession({
      command: "connect",
      destination: { host: "127.0.0.1", port: target.port },
    });
    assert.equal(session.reply, 0);
    // Key exchange alone is well over a kilobyte each way.
    assert.ok(session.bytesUp > 1000, `bytesUp ${session.bytesUp}`);
    assert.ok(session.bytesDown > 1000, `bytesDown ${session.bytesDown}`);
  },
});

serverTest({
  name:
    "ncat --proxy-type socks5 echoes stdin when the target is a TCP echo server",
  ignore: ncat.ignore,
  async fn(_t, command) {
    ncat.assertAvailable();
    await using server = await ServerProcess.start({ server: command });
    await using echo = startTcpEcho("127.0.0.1");
    const payload = `ncat payload ${crypto.randomUUID()}\n`.repeat(200);
    const result = await runCommand(ncat.command, [
      "--proxy",
      `127.0.0.1:${server.port}`,
      "--proxy-type",
      "socks5",
      "127.0.0.1",
      String(echo.port),
    ], { stdin: payload, timeoutMs: 20_000 });
    assertSucceeded(result, "ncat");
    assert.equal(result.stdoutText, payload);
    const session = await server.waitForSession({
      command: "connect",
      destination: { host: "127.0.0.1", port: echo.port },
    });
    assert.equal(session.reply, 0);
    assert.equal(session.bytesUp, payload.length);
    assert.equal(session.bytesDown, payload.length);
  },
});
