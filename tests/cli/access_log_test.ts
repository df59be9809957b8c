/**
 * `--access-log PATH` on the real server process: session lines go to the
 * file (not stderr), SIGUSR1 reopens it after logrotate moved it (and does
 * not end the process), and no secret reaches any log at debug level.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect } from "../../src/mod.ts";
import { SocksError } from "../../src/protocol/errors.ts";
import { serverTest, withDenoFlags } from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { echoTarget } from "../_helpers/targets.ts";
import { eventually } from "../_helpers/wait.ts";

const WAIT_MS = 10_000;

/** The JSON lines of a file, `[]` while it does not exist. */
async function lines(path: string): Promise<Array<Record<string, unknown>>> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

/** Waits until `path` holds `count` session lines; returns them. */
async function sessionLines(
  path: string,
  count: number,
): Promise<Array<Record<string, unknown>>> {
  let found: Array<Record<string, unknown>> = [];
  await eventually(
    async () => {
      found = (await lines(path)).filter((l) => l.msg === "session");
      return found.length >= count;
    },
    () => `${path}: ${found.length} of ${count} session lines`,
    { ms: WAIT_MS, every: 50 },
  );
  return found;
}

async function echoOnce(
  proxyPort: number,
  targetPort: number,
  auth?: { username: string; password: string },
): Promise<void> {
  const { conn } = await connect({ host: "127.0.0.1", port: targetPort }, {
    proxy: { hostname: "127.0.0.1", port: proxyPort },
    ...(auth ? { auth } : {}),
  });
  await conn.write(Uint8Array.of(1, 2, 3));
  const buffer = new Uint8Array(3);
  let filled = 0;
  while (filled < 3) filled += (await conn.read(buffer.subarray(filled)))!;
  conn.close();
}

for (const workers of [1, 2]) {
  serverTest({
    name:
      `--access-log writes session lines to the file and SIGUSR1 reopens it after a rotation (--workers ${workers})`,
    async fn(_t, command) {
      const dir = await Deno.makeTempDir({ prefix: "socks5-access-log-" });
      try {
        const log = `${dir}/access.log`;
        await using target = echoTarget();
        await using server = await ServerProcess.start({
          server: withDenoFlags(command, `--allow-write=${dir}`),
          args: ["--access-log", log, "--workers", String(workers)],
        });
        await echoOnce(server.port, target.addr.port);
        const [first] = await sessionLines(log, 1);
        assert.equal(first!.command, "connect");
        assert.equal(first!.protocol, "socks5");
        assert.equal(first!.reply, 0);
        assert.equal(first!.bytesUp, 3);
        // As logrotate does: move the file, then signal.
        await Deno.rename(log, `${log}.1`);
        server.signal("SIGUSR1");
        await server.waitForEvent("access log reopened");
        await echoOnce(server.port, target.addr.port);
        await echoOnce(server.port, target.addr.port);
        assert.equal((await sessionLines(log, 2)).length, 2);
        assert.equal((await sessionLines(`${log}.1`, 1)).length, 1);
        // Session lines went to the file only.
        assert.equal(server.sessions.length, 0, server.log);
        assert.equal((await Deno.stat(log)).mode! & 0o777, 0o640);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

serverTest({
  name:
    "no password, token or Authorization header reaches any log at debug level",
  async fn(_t, command) {
    const dir = await Deno.makeTempDir({ prefix: "socks5-secrets-" });
    try {
      const password = "pw-" + crypto.randomUUID();
      const wrong = "wrong-" + crypto.randomUUID();
      const token = "tok-" + crypto.randomUUID();
      const wrongToken = "badtok-" + crypto.randomUUID();
      const basic = btoa(`ops:${token}`);
      await Deno.writeTextFile(`${dir}/users`, `alice:${password}\n`);
      await Deno.writeTextFile(`${dir}/token`, token);
      const log = `${dir}/access.log`;
      await using target = echoTarget();
      const server = await ServerProcess.start({
        server: withDenoFlags(command, `--allow-write=${dir}`),
        args: [
          "--log-level",
          "debug",
          "--users-file",
          `${dir}/users`,
          "--admin",
          "127.0.0.1:0",
          "--admin-token-file",
          `${dir}/token`,
          "--access-log",
          log,
        ],
      });
      let stderr: string;
      try {
        const admin = (await server.waitForEvent("admin listening"))
          .url as string;
        await echoOnce(server.port, target.addr.port, {
          username: "alice",
          password,
        });
        await assert.rejects(
          () =>
            echoOnce(server.port, target.addr.port, {
              username: "alice",
              password: wrong,
            }),
          SocksError,
        );
        // A user who typed the password into the name field.
        await assert.rejects(
          () =>
            echoOnce(server.port, target.addr.port, {
              username: password,
              password: wrong,
            }),
          SocksError,
        );
        for (
          const authorization of [
            `Bearer ${token}`,
            `Basic ${basic}`,
            `Bearer ${wrongToken}`,
          ]
        ) {
          const response = await fetch(`${admin}metrics`, {
            headers: { authorization },
          });
          await response.body?.cancel();
        }
        await sessionLines(log, 3);
        // Debug lines were written: the check below reads a real debug log.
        await server.waitForEvent("admin request");
        await server.waitForEvent("request");
      } finally {
        await server.stop();
        stderr = server.log;
      }
      const everything = stderr + await Deno.readTextFile(log);
      for (const secret of [password, wrong, token, wrongToken, basic]) {
        assert.ok(
          !everything.includes(secret),
          `a secret leaked:\n${everything}`,
        );
      }
      assert.doesNotMatch(everything, /authorization|bearer|basic /i);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
