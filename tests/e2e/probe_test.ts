/**
 * `socks5-deno probe URL --json` (run as deno, bun and the executable)
 * against the project, microsocks and Dante: the report shows their known
 * differences.
 */
import assert from "node:assert/strict";
import type { ProbeReport } from "../../src/probe/probe.ts";
import {
  runToExit,
  type ServerCommand,
  serverTest,
} from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import {
  DANTED,
  MICROSOCKS,
  missing,
  startDante,
  startMicrosocks,
} from "../_helpers/third_party_socks.ts";

async function probe(
  command: ServerCommand,
  url: string,
): Promise<{ code: number; report: ProbeReport | null; stderr: string }> {
  const { code, stdout, stderr } = await runToExit(command, [
    "probe",
    "--json",
    url,
  ]);
  return { code, report: code === 0 ? JSON.parse(stdout) : null, stderr };
}

const ok = { outcome: "ok", reply: 0 };

serverTest({
  name: "probe reports the project as supporting everything, with RFC replies",
  async fn(_t, command) {
    await using server = await ServerProcess.start({
      server: command,
      users: ["alice:pa:ss"],
    });
    const { code, report, stderr } = await probe(
      command,
      `socks5://alice:${encodeURIComponent("pa:ss")}@127.0.0.1:${server.port}`,
    );
    assert.equal(code, 0, stderr);
    assert.deepEqual(report!.methods, {
      noAuth: "refused",
      gssapi: "refused",
      userPass: "accepted",
      preferred: 2,
    });
    assert.equal(report!.login, true);
    const c = report!.checks;
    for (
      const name of [
        "connectIpv4",
        "connectName",
        "bind",
        "udpAssociate",
        "splitHandshake",
        "pipelined",
        "halfClose",
      ] as const
    ) {
      assert.deepEqual(c[name], ok, name);
    }
    assert.ok(
      c.connectIpv6.outcome === "ok" || c.connectIpv6.outcome === "skipped",
    );
    assert.deepEqual(c.connectRefused, { outcome: "refused", reply: 5 });
    assert.deepEqual(c.unknownCommand, { outcome: "refused", reply: 7 });
    assert.deepEqual(c.badAddressType, { outcome: "refused", reply: 8 });
    assert.equal(report!.supports.pipelining, true);
  },
});

serverTest({
  name: "probe fails with exit 1 for an unreachable server and 2 for a bad URL",
  async fn(_t, command) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    const dead = await probe(command, `socks5://127.0.0.1:${port}`);
    assert.equal(dead.code, 1);
    assert.match(dead.stderr, /cannot reach socks5:\/\/127\.0\.0\.1:\d+/);
    const bad = await probe(command, "http://u:secret@127.0.0.1:1");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /SOCKS5 only/);
    assert.ok(!bad.stderr.includes("secret"));
  },
});

serverTest({
  name:
    "probe shows microsocks' gaps: no BIND or UDP (07), a pipelined request lost, no half-close",
  ignore: missing(MICROSOCKS),
  async fn(_t, command) {
    await using micro = await startMicrosocks();
    const { code, report, stderr } = await probe(
      command,
      `socks5://127.0.0.1:${micro.port}`,
    );
    assert.equal(code, 0, stderr);
    const c = report!.checks;
    assert.deepEqual(c.connectIpv4, ok);
    assert.deepEqual(c.connectName, ok);
    assert.deepEqual(c.bind, { outcome: "refused", reply: 7 });
    assert.deepEqual(c.udpAssociate, { outcome: "refused", reply: 7 });
    assert.equal(c.pipelined.outcome, "no_reply");
    // A greeting split byte by byte fails too, as a refusal or a close
    // depending on how its bytes were scheduled: not asserted.
    assert.equal(c.halfClose.outcome, "closed");
    assert.deepEqual(report!.supports, {
      connect: true,
      ipv6: report!.supports.ipv6,
      names: true,
      bind: false,
      udp: false,
      splitHandshake: report!.supports.splitHandshake,
      pipelining: false,
      halfClose: false,
    });
  },
});

serverTest({
  name:
    "probe shows Dante's behaviour: BIND, UDP and pipelining work, no reply to an unknown command",
  ignore: missing(DANTED),
  async fn(_t, command) {
    await using dante = await startDante();
    const { code, report, stderr } = await probe(
      command,
      `socks5://127.0.0.1:${dante.port}`,
    );
    assert.equal(code, 0, stderr);
    const c = report!.checks;
    for (
      const name of [
        "connectIpv4",
        "connectName",
        "bind",
        "udpAssociate",
        "splitHandshake",
        "pipelined",
        "halfClose",
      ] as const
    ) {
      assert.deepEqual(c[name], ok, `${name}: ${JSON.stringify(c[name])}`);
    }
    assert.deepEqual(c.connectRefused, { outcome: "refused", reply: 5 });
    assert.equal(c.unknownCommand.outcome, "closed");
    assert.equal(c.unknownCommand.reply, undefined);
    assert.equal(c.badAddressType.outcome, "closed");
  },
});
