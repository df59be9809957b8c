/**
 * Running out of file descriptors: the real server, started under a low
 * descriptor limit (`prlimit --nofile=64:64`, soft and hard, since Deno may
 * raise the soft limit to the hard one), is flooded with idle connections
 * until accept() fails. It must stay up, back off instead of spinning (its
 * CPU time over a window is the spin detector), warn once per interval, and
 * serve a normal client once the connections are gone.
 *
 * @module
 */

import { commandLine, serverTest } from "../_helpers/server_commands.ts";
import assert from "node:assert/strict";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { echoTarget, payload } from "../_helpers/targets.ts";
import { closeAll } from "./_bounded.ts";
import { eventually, sleep, within } from "../_helpers/wait.ts";

const LIMIT = 64;
/** More than the limit leaves room for, fewer than the listen backlog. */
const CONNECTIONS = 90;
const CLOCK_TICKS_PER_SECOND = 100;
const SPIN_WINDOW_MS = 2_000;

function cpuTicks(pid: number): number {
  // Through `cat`: Deno wants --allow-all to read another process's /proc
  // files, and the test task grants named permissions only.
  const output = new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`],
    stdout: "piped",
  }).outputSync();
  assert.ok(output.success, `cannot read /proc/${pid}/stat`);
  const stat = new TextDecoder().decode(output.stdout);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function _openWhenListening(port: number): Promise<RawClient> {
  for (let attempt = 0;; attempt++) {
    try {
      return await RawClient.open({ hostname: "127.0.0.1", port });
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionRefused) || attempt >= 100) {
        throw error;
      }
      await sleep(100);
    }
  }
}

function hasPrlimit(): boolean {
  try {
    return new Deno.Command("prlimit", { args: ["--version"] }).outputSync()
      .success;
  } catch {
    return false;
  }
}

serverTest({
  name: "serve() backs off when accept() runs out of descriptors and recovers",
  ignore: Deno.build.os !== "linux" || !hasPrlimit(),
  async fn(_t, server) {
    await using target = echoTarget();
    const line = commandLine(server, [
      "--listen",
      "127.0.0.1:0",
      "--log-format",
      "json",
      "--handshake-timeout",
      "60s",
    ]);
    const child = new Deno.Command("prlimit", {
      args: [
        `--nofile=${LIMIT}:${LIMIT}`,
        line.program,
        ...line.args,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const logs: Array<Record<string, unknown>> = [];
    const other: string[] = [];
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    const reading = (async () => {
      let rest = "";
      for await (
        const text of child.stderr.pipeThrough(new TextDecoderStream())
      ) {
        rest += text;
        const lines = rest.split("\n");
        rest = lines.pop()!;
        for (const line of lines) {
          // Deno's own warnings are not JSON; keep them for diagnostics.
          if (line.startsWith("{")) logs.push(JSON.parse(line));
          else if (line) other.push(line);
        }
      }
    })();
    const conns: Deno.TcpConn[] = [];
    try {
      await eventually(
        () => logs.some((l) => l.msg === "listening"),
        "listening",
        { ms: 30_000 },
      );
      const address = String(logs.find((l) => l.msg === "listening")!.address);
      const port = Number(address.split(":")[1]);

      // Idle connections until the server's accept() fails. On Deno the
      // kernel keeps completing handshakes into the backlog, so every
      // connect succeeds; the Bun adapter stops listening just before the
      // limit (Bun itself would spin on EMFILE), so later connects are
      // refused.
      for (let i = 0; i < CONNECTIONS; i++) {
        try {
          conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
        } catch (error) {
          if (
            !(error instanceof Deno.errors.ConnectionRefused ||
              error instanceof Deno.errors.ConnectionReset)
          ) throw error;
          assert.ok(i > LIMIT / 2, `refused after only ${i} connections`);
          break;
        }
      }
      await eventually(
        () => logs.some((l) => l.msg === "accept failed"),
        "accept failed",
        { ms: 15_000 },
      );

      // The spin detector: a loop retrying a failing accept() at once would
      // burn a whole core; backing off costs next to nothing.
      const before = cpuTicks(child.pid);
      await sleep(SPIN_WINDOW_MS);
      const used = (cpuTicks(child.pid) - before) / CLOCK_TICKS_PER_SECOND;
      assert.ok(
        used < (SPIN_WINDOW_MS / 1000) * 0.5,
        `server used ${used}s of CPU in ${SPIN_WINDOW_MS} ms while out of descriptors`,
      );
      assert.equal(exited, false, "server died");
      // Rate-limited: one warning per 10 s interval, not one per failure.
      const warnings = logs.filter((l) => l.msg === "accept failed");
      assert.ok(warnings.length <= 2, `${warnings.length} warnings`);
      assert.equal(warnings[0]!.level, "warn");
      assert.equal(typeof warnings[0]!.retryMs, "number");

      // Load gone: the server frees its descriptors and serves again.
      closeAll(conns.splice(0));
      const served = await within(
        (async () => {
          // The Bun adapter listens again once the sessions have closed
          // their sockets; until then a connect is refused.
          using client = await _openWhenListening(port);
          await client.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)}`);
          assert.equal(await client.readHex(2), "05 00");
          assert.equal((await client.read(10))[1], 0x00);
          const data = payload(50_000, 5);
          await client.send(data);
          assert.deepEqual(await client.read(data.length), data);
          return true;
        })(),
        20_000,
        "normal client after recovery",
      );
      assert.equal(served, true);
      assert.equal(exited, false, "server died");
    } finally {
      closeAll(conns);
      if (!exited) child.kill("SIGTERM");
      await reading;
    }
    assert.equal((await status).code, 0, other.join("\n"));
    assert.deepEqual(logs.filter((l) => l.level === "error"), []);
  },
});
