/**
 * Reload on SIGHUP, against the real server process (Deno, Bun, the
 * executable): under load nothing is lost, a bad file changes nothing, new
 * listen addresses take over without dropping sessions, workers follow.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect } from "../../src/mod.ts";
import type { Connection } from "../../src/mod.ts";
import { serverTest } from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { echoTarget, payload } from "../_helpers/targets.ts";
import { eventually } from "../_helpers/wait.ts";

/** A temporary directory with a config file and a users file. */
async function configDir(): Promise<
  {
    dir: string;
    config: string;
    users: string;
    write(config: string, users?: string): Promise<void>;
  } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "socks5-reload-" });
  const config = `${dir}/socks5-deno.yaml`;
  const users = `${dir}/users.txt`;
  return {
    dir,
    config,
    users,
    async write(text, usersText) {
      // Written beside and renamed over, as an editor or a deploy tool does:
      // a reload never reads half a file.
      await Deno.writeTextFile(`${config}.new`, text);
      await Deno.rename(`${config}.new`, config);
      if (usersText !== undefined) {
        await Deno.writeTextFile(`${users}.new`, usersText);
        await Deno.rename(`${users}.new`, users);
      }
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function readExactly(conn: Connection, length: number) {
  const out = new Uint8Array(length);
  let have = 0;
  while (have < length) {
    const n = await conn.read(out.subarray(have));
    if (n === null) throw new Error(`EOF after ${have} of ${length} bytes`);
    have += n;
  }
  return out;
}

/**
 * Sends `bytes` through the proxy to an echo target in `chunks` pieces,
 * reading each echo back before the next, and checks every byte.
 */
async function echoTransfer(
  proxyPort: number,
  targetPort: number,
  bytes: Uint8Array,
  chunks: number,
  auth?: { username: string; password: string },
  gate: (chunk: number) => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const { conn } = await connect(
    { host: "127.0.0.1", port: targetPort },
    { proxy: { hostname: "127.0.0.1", port: proxyPort }, auth },
  );
  try {
    const size = Math.ceil(bytes.length / chunks);
    for (let offset = 0; offset < bytes.length; offset += size) {
      await gate(offset / size);
      const piece = bytes.subarray(offset, offset + size);
      let written = 0;
      while (written < piece.length) {
        written += await conn.write(piece.subarray(written));
      }
      const echoed = await readExactly(conn, piece.length);
      assert.deepStrictEqual(echoed, piece, `bytes at ${offset} differ`);
    }
  } finally {
    conn.close();
  }
}

async function reloadedTo(
  server: ServerProcess,
  generation: number,
): Promise<void> {
  await eventually(
    () =>
      server.events.some((e) =>
        e.msg === "reloaded" && e.generation === generation
      ),
    () => `reload to generation ${generation}\n${server.log.slice(-2000)}`,
    { ms: 20_000, every: 20 },
  );
}

const _RULES = (name: string) =>
  `rules:\n  - name: ${name}\n    action: allow\n    to: 127.0.0.0/8\n`;

serverTest({
  name:
    "SIGHUP reloads 20 times while 200 transfers run, and every byte of every transfer arrives",
  async fn(_t, server) {
    await using files = await configDir();
    const base = `listen: 127.0.0.1:0\nusers-file: ${files.users}\n` +
      `log-level: info\n`;
    await files.write(base + _RULES("even"), "alice:alice-pw\n");
    await using target = echoTarget();
    await using proxy = await ServerProcess.start({
      server,
      args: ["--config", files.config],
    });
    const auth = { username: "alice", password: "alice-pw" };
    // Chunk k of every transfer waits for reload k: all 200 sessions are
    // open and moving across all 20 reloads.
    const reloaded: Array<() => void> = [];
    const gates = Array.from(
      { length: 21 },
      (_, i) =>
        i === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
          reloaded[i] = resolve;
        }),
    );
    const transfers = Array.from(
      { length: 200 },
      (_, i) =>
        echoTransfer(
          proxy.port,
          target.addr.port,
          payload(32 * 1024, i + 1),
          32,
          auth,
          (chunk) => gates[Math.min(chunk, 20)]!,
        ),
    );
    const settled = Promise.allSettled(transfers);
    for (let generation = 2; generation <= 21; generation++) {
      // Every other reload changes the rules' names and the users file.
      await files.write(
        base + _RULES(generation % 2 ? "odd" : "even"),
        `alice:alice-pw\n${generation % 2 ? "bob:bob-pw\n" : ""}`,
      );
      proxy.signal("SIGHUP");
      await reloadedTo(proxy, generation);
      reloaded[generation - 1]!();
    }
    const results = await settled;
    const failed = results.filter((r) => r.status === "rejected");
    assert.equal(
      failed.length,
      0,
      `${failed.length} transfers failed, first: ${
        (failed[0] as PromiseRejectedResult | undefined)?.reason
      }`,
    );
    await proxy.waitForSessionCount(200, 30_000);
    const sessions = proxy.sessions;
    assert.equal(sessions.filter((s) => s.reply === 0).length, 200);
    for (const session of sessions) {
      assert.equal(session.bytesUp, 32 * 1024);
      assert.equal(session.bytesDown, 32 * 1024);
    }
    // After the last reload (generation 21, odd) bob exists and new
    // sessions get the new rules.
    await echoTransfer(proxy.port, target.addr.port, payload(100), 1, {
      username: "bob",
      password: "bob-pw",
    });
    const last = await proxy.waitForSession({ user: "bob" });
    assert.equal(last.rule, "odd");
  },
});

serverTest({
  name:
    "SIGHUP with a bad config logs one error line and keeps the old configuration",
  async fn(_t, server) {
    await using files = await configDir();
    await files.write(`listen: 127.0.0.1:0\n${_RULES("first")}`);
    await using target = echoTarget();
    await using proxy = await ServerProcess.start({
      server,
      args: ["--config", files.config],
    });
    await files.write(
      `listen: 127.0.0.1:0\nlimits:\n  max-sessions: 0\n${_RULES("second")}`,
    );
    proxy.signal("SIGHUP");
    const rejected = await proxy.waitForEvent(
      "reload rejected, the old configuration stays",
    );
    assert.match(
      String(rejected.error),
      /socks5-deno\.yaml:3: limits\.max-sessions: expected a positive integer, got "0"$/,
    );
    assert.equal(rejected.level, "error");
    assert.equal(
      proxy.log.split("\n").filter((l) => l.includes("reload rejected"))
        .length,
      1,
    );
    await echoTransfer(proxy.port, target.addr.port, payload(64), 1);
    const session = await proxy.waitForSession({ reply: 0 });
    assert.equal(session.rule, "first");
  },
});

serverTest({
  name:
    "SIGHUP with a changed listen address opens the new listener and closes the old without dropping its sessions",
  async fn(_t, server) {
    await using files = await configDir();
    await files.write(`listen: 127.0.0.1:0\n`);
    await using target = echoTarget();
    await using proxy = await ServerProcess.start({
      server,
      listen: [],
      args: ["--config", files.config],
    });
    await proxy.waitForEvent("listening");
    const oldPort = proxy.port;
    // A session on the old listener, alive across the reload.
    const { conn } = await connect(
      { host: "127.0.0.1", port: target.addr.port },
      { proxy: { hostname: "127.0.0.1", port: oldPort } },
    );
    await files.write(`listen: "[::1]:0"\n`);
    proxy.signal("SIGHUP");
    await reloadedTo(proxy, 2);
    const fresh = proxy.events.filter((e) => e.msg === "listening").at(-1)!;
    const newPort = Number(/:(\d+)$/.exec(String(fresh.address))![1]);
    assert.match(String(fresh.address), /^\[::1\]:\d+$/);
    // The old session still relays.
    const bytes = payload(4096, 7);
    await conn.write(bytes);
    assert.deepStrictEqual(await readExactly(conn, bytes.length), bytes);
    conn.close();
    // The new listener serves; the old one is closed.
    const through = await connect(
      { host: "127.0.0.1", port: target.addr.port },
      { proxy: { hostname: "::1", port: newPort } },
    );
    through.conn.close();
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port: oldPort }).then((c) => {
        c.close();
      }),
    );
  },
});

serverTest({
  name: "SIGHUP reaches every worker of --workers 2",
  async fn(_t, server) {
    await using files = await configDir();
    await files.write(`listen: 127.0.0.1:0\nworkers: 2\n${_RULES("before")}`);
    await using target = echoTarget();
    await using proxy = await ServerProcess.start({
      server,
      args: ["--config", files.config],
    });
    await files.write(
      `listen: 127.0.0.1:0\nworkers: 2\nrules:\n  - name: after\n    action: deny\n`,
    );
    proxy.signal("SIGHUP");
    await reloadedTo(proxy, 2);
    // The kernel spreads connections over both workers; every one of them
    // must be refused by the new rule.
    for (let i = 0; i < 16; i++) {
      await assert.rejects(
        connect(
          { host: "127.0.0.1", port: target.addr.port },
          { proxy: { hostname: "127.0.0.1", port: proxy.port } },
        ),
        /not allowed|0x02|REP 02|ruleset/i,
      );
    }
    await proxy.waitForSessionCount(16);
    for (const session of proxy.sessions) {
      assert.equal(session.reply, 2);
      assert.equal(session.rule, "after");
    }
  },
});

serverTest({
  name:
    "a reload bumps socks5_config_generation on /metrics; a rejected one does not",
  async fn(_t, server) {
    await using files = await configDir();
    await files.write(`listen: 127.0.0.1:0\nmetrics: 127.0.0.1:0\n`);
    await using proxy = await ServerProcess.start({
      server,
      args: ["--config", files.config],
    });
    const url = String((await proxy.waitForEvent("metrics listening")).url);
    const generation = async () => {
      const text = await (await fetch(url)).text();
      return Number(/^socks5_config_generation (\d+)$/m.exec(text)?.[1]);
    };
    assert.equal(await generation(), 1);
    proxy.signal("SIGHUP");
    await reloadedTo(proxy, 2);
    assert.equal(await generation(), 2);
    await files.write(`listen: 127.0.0.1:0\nmetrics: 127.0.0.1:0\nbogus: 1\n`);
    proxy.signal("SIGHUP");
    await proxy.waitForEvent("reload rejected, the old configuration stays");
    assert.equal(await generation(), 2);
  },
});
