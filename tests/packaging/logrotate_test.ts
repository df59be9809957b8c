/**
 * The logrotate example rotates the real server's access log: logrotate
 * moves the file, its postrotate sends SIGUSR1, and the server writes the
 * next session into a new file. The example's paths and the way it finds
 * the process (systemctl) are replaced for the test; its rotation options
 * are used as written.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect } from "../../src/mod.ts";
import { findExecutable } from "../e2e/_client_tool.ts";
import {
  REPO_ROOT,
  serverTest,
  withDenoFlags,
} from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { echoTarget } from "../_helpers/targets.ts";
import { eventually } from "../_helpers/wait.ts";

const logrotate = findExecutable(
  "/usr/sbin/logrotate",
  "apt-get install logrotate",
);
const EXAMPLE = `${REPO_ROOT}examples/logrotate/socks5-deno`;
const WAIT_MS = 10_000;

async function sessionCount(path: string): Promise<number> {
  try {
    return (await Deno.readTextFile(path)).split("\n")
      .filter((l) => l.includes('"msg":"session"')).length;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

async function waitForSessions(path: string, count: number): Promise<void> {
  await eventually(
    async () => await sessionCount(path) >= count,
    `${path}: ${count} sessions`,
    { ms: WAIT_MS, every: 50 },
  );
}

async function oneSession(proxy: number, target: number): Promise<void> {
  const { conn } = await connect({ host: "127.0.0.1", port: target }, {
    proxy: { hostname: "127.0.0.1", port: proxy },
  });
  await conn.write(Uint8Array.of(42));
  assert.equal(await conn.read(new Uint8Array(1)), 1);
  conn.close();
}

serverTest({
  name:
    "logrotate with the example config rotates the access log and the server reopens it",
  ignore: logrotate.ignore,
  async fn(_t, command) {
    logrotate.assertAvailable();
    const dir = await Deno.makeTempDir({ prefix: "socks5-logrotate-" });
    try {
      const log = `${dir}/access.log`;
      await using target = echoTarget();
      await using server = await ServerProcess.start({
        server: withDenoFlags(command, `--allow-write=${dir}`),
        args: ["--access-log", log],
      });
      await oneSession(server.port, target.addr.port);
      await waitForSessions(log, 1);
      const example = await Deno.readTextFile(EXAMPLE);
      assert.match(example, /^\s+kill -USR1 /m);
      const config = example
        .replace("/var/log/socks5-deno/access.log", log)
        .replace(/^(\s+)kill -USR1 .*$/m, `$1kill -USR1 ${server.pid}`);
      await Deno.writeTextFile(`${dir}/logrotate.conf`, config);
      const run = await new Deno.Command(logrotate.command, {
        args: ["--force", "--state", `${dir}/state`, `${dir}/logrotate.conf`],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
      await server.waitForEvent("access log reopened");
      await oneSession(server.port, target.addr.port);
      await waitForSessions(log, 1);
      // delaycompress: the first rotation keeps access.log.1 as text.
      assert.equal(await sessionCount(`${log}.1`), 1);
      assert.equal(await sessionCount(log), 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
