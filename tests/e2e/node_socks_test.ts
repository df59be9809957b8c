/**
 * Node's `socks` package (npm, pinned in tests/e2e/node/package.json), an
 * independent SOCKS5 client implementation, drives CONNECT, BIND and UDP
 * ASSOCIATE against the real server. The client scripts live in
 * tests/e2e/node/ and print JSON that these tests assert on.
 */
import { serverTest } from "../_helpers/server_commands.ts";
import assert from "node:assert/strict";
import { findNodeSocks, NODE_DIR } from "./_client_tool.ts";
import { assertSucceeded, runCommand } from "./_run_command.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { startTcpEcho } from "./_tcp_targets.ts";
import { startUdpEcho } from "./_udp_echo_target.ts";

const node = findNodeSocks();

/** An address as the scripts print it (IPv6 canonical, no brackets). */
interface HostPort {
  host: string;
  port: number;
}

serverTest({
  name: "socks (npm) CONNECT echoes bytes when relayed to an IPv6 echo server",
  ignore: node.ignore,
  async fn(_t, command) {
    node.assertAvailable();
    const size = 256 * 1024;
    await using server = await ServerProcess.start({ server: command });
    await using echo = startTcpEcho("::1");
    const result = await runCommand(node.command, [
      `${NODE_DIR}socks_connect.mjs`,
      String(server.port),
      "::1",
      String(echo.port),
      String(size),
    ], { cwd: NODE_DIR });
    assertSucceeded(result, "socks_connect.mjs");
    const got = JSON.parse(result.stdoutText);
    assert.deepEqual(
      { sent: got.sent, received: got.received, equal: got.equal },
      { sent: size, received: size, equal: true },
    );
    const session = await server.waitForSession({
      command: "connect",
      destination: { host: "::1", port: echo.port },
    });
    assert.equal(session.reply, 0);
    assert.equal(session.bytesUp, size);
    assert.equal(session.bytesDown, size);
  },
});

serverTest({
  name:
    "socks (npm) BIND names the connecting peer in the second reply and relays both ways",
  ignore: node.ignore,
  async fn(_t, command) {
    node.assertAvailable();
    await using server = await ServerProcess.start({ server: command });
    const result = await runCommand(node.command, [
      `${NODE_DIR}socks_bind.mjs`,
      String(server.port),
    ], { cwd: NODE_DIR });
    assertSucceeded(result, "socks_bind.mjs");
    const got: {
      bound: HostPort;
      established: HostPort;
      peerLocal: HostPort;
      clientGot: string;
      peerGot: string;
      expectedClientGot: string;
      expectedPeerGot: string;
    } = JSON.parse(result.stdoutText);
    // Contract: the BIND socket listens on the IP the control connection reached.
    assert.equal(got.bound.host, "127.0.0.1");
    assert.ok(
      got.bound.port > 0 && got.bound.port !== server.port,
      `bound ${got.bound.port}`,
    );
    assert.deepEqual(got.established, got.peerLocal);
    assert.equal(got.clientGot, got.expectedClientGot);
    assert.equal(got.peerGot, got.expectedPeerGot);
    const session = await server.waitForSession({ command: "bind" });
    assert.equal(session.reply, 0);
    assert.equal(
      session.bytesUp,
      new TextEncoder().encode(got.expectedPeerGot).length,
    );
    assert.equal(
      session.bytesDown,
      new TextEncoder().encode(got.expectedClientGot).length,
    );
  },
});

serverTest({
  name:
    "socks (npm) UDP ASSOCIATE relays to IPv4, domain and IPv6 destinations and stops when the control connection closes",
  ignore: node.ignore,
  async fn(t, command) {
    node.assertAvailable();
    await using server = await ServerProcess.start({ server: command });
    await using v4 = startUdpEcho("127.0.0.1");
    await using v6 = startUdpEcho("::1");
    await using script = _LineProcess.spawn(node.command, [
      `${NODE_DIR}socks_udp_associate.mjs`,
      String(server.port),
      String(v4.port),
      String(v6.port),
    ], NODE_DIR);

    const exchanged = JSON.parse(await script.nextLine());
    assert.equal(exchanged.event, "exchanged", JSON.stringify(exchanged));
    const byName = new Map<string, Record<string, unknown>>(
      exchanged.results.map((r: { name: string }) => [r.name, r]),
    );

    await t.step(
      "the relay listens on the IP the control connection reached",
      () => {
        assert.equal(exchanged.relay.host, "127.0.0.1");
        assert.ok(exchanged.relay.port > 0);
      },
    );

    const expected: Record<
      string,
      { atyp: number; host: string; port: number }
    > = {
      ipv4: { atyp: 1, host: "127.0.0.1", port: v4.port },
      // The name is resolved by the server; the answer comes from the address.
      domain: { atyp: 1, host: "127.0.0.1", port: v4.port },
      ipv6: { atyp: 4, host: "::1", port: v6.port },
    };
    for (const [name, want] of Object.entries(expected)) {
      await t.step(
        `the ${name} echo comes back with a header naming its source`,
        () => {
          const got = byName.get(name);
          assert.ok(
            got?.answered,
            `no answer for ${name}: ${JSON.stringify(got)}`,
          );
          assert.deepEqual(
            {
              rsv: got.rsv,
              frag: got.frag,
              atyp: got.atyp,
              host: got.host,
              port: got.port,
            },
            { rsv: 0, frag: 0, ...want },
          );
          assert.equal(got.dataEqual, true);
        },
      );
    }

    await t.step("the access log counts the datagram payloads", async () => {
      const session = await server.waitForSession({ command: "udp_associate" });
      assert.equal(session.reply, 0);
      const payloads = exchanged.results.reduce(
        (sum: number, r: { payloadBytes?: number }) =>
          sum + (r.payloadBytes ?? 0),
        0,
      );
      assert.equal(session.bytesUp, payloads);
      assert.equal(session.bytesDown, payloads);
    });

    await t.step(
      "a datagram sent after the control connection closed is not relayed",
      async () => {
        // The session line above is written when the session has ended, so the
        // relay must be gone by now.
        const echoedBefore = v4.echoed.length;
        await script.writeLine("probe");
        const probed = JSON.parse(await script.nextLine());
        assert.deepEqual(probed, { event: "probed", answered: false });
        assert.equal(
          v4.echoed.length,
          echoedBefore,
          "the echo server got the probe",
        );
      },
    );

    const status = await script.finish();
    assert.equal(status.code, 0, script.stderr);
  },
});

/**
 * A child process spoken to line by line over stdin/stdout, for scripts that
 * must wait for the test between steps.
 */
class _LineProcess implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #lines: AsyncIterator<string>;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stderr: Promise<string>;
  #stderrText = "";
  #timer: ReturnType<typeof setTimeout>;

  private constructor(child: Deno.ChildProcess, timeoutMs: number) {
    this.#child = child;
    this.#lines = _splitLines(child.stdout)[Symbol.asyncIterator]();
    this.#stdin = child.stdin.getWriter();
    this.#stderr = new Response(child.stderr).text().then((text) =>
      this.#stderrText = text
    );
    // Bounded: a script stuck waiting for a datagram is killed by PID.
    this.#timer = setTimeout(() => this.#kill(), timeoutMs);
  }

  static spawn(
    command: string,
    args: string[],
    cwd: string,
    timeoutMs = 30_000,
  ) {
    const child = new Deno.Command(command, {
      args,
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new _LineProcess(child, timeoutMs);
  }

  /** stderr, once the process has finished. */
  get stderr(): string {
    return this.#stderrText;
  }

  async nextLine(): Promise<string> {
    const next = await this.#lines.next();
    if (next.done) {
      const status = await this.finish();
      throw new Error(
        `Script exited (${status.code}) early\n${this.#stderrText}`,
      );
    }
    return next.value;
  }

  async writeLine(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${line}\n`));
  }

  async finish(): Promise<Deno.CommandStatus> {
    await this.#stdin.close().catch(() => {});
    // Drain what is left so the pipe resource closes.
    for (;;) {
      const next = await this.#lines.next();
      if (next.done) break;
    }
    const status = await this.#child.status;
    await this.#stderr;
    clearTimeout(this.#timer);
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#kill();
    await this.finish();
  }

  #kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }
}

async function* _splitLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
  if (pending) yield pending;
}
