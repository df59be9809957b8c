/**
 * The status page of the real server process in headless Chromium: the
 * DOM it renders by itself (it polls `/api/status`) lists the sessions this
 * test holds open, their users' totals and the reply codes; a screenshot
 * is written to `dist/status-page-<server>.png` (the README's picture, `docs/status-page.png`, is one).
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect } from "../../src/mod.ts";
import type { Connection } from "../../src/runtime/transport.ts";
import { findExecutable } from "../e2e/_client_tool.ts";
import { assertSucceeded, runCommand } from "../e2e/_run_command.ts";
import { serverTest } from "../_helpers/server_commands.ts";
import { REPO_ROOT, ServerProcess } from "../_helpers/server_process.ts";
import { echoTarget, payload } from "../_helpers/targets.ts";
import { sleep } from "../_helpers/wait.ts";

const chromium = findExecutable("chromium", "apt-get install chromium");
const PASSWORD = "correct horse battery";

/**
 * The page talks only to the admin listener (an IP-literal URL); nothing
 * else may leave: no background, component or sync fetches, no QUIC, every
 * name lookup fails at once.
 */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-extensions",
  "--disable-default-apps",
  "--disable-domain-reliability",
  "--disable-breakpad",
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
  // Virtual time runs the page's polling timers; the budget ends the run.
  "--virtual-time-budget=4000",
  "--window-size=1280,760",
];

async function session(
  proxyPort: number,
  targetPort: number,
  user: string,
  size: number,
): Promise<Connection> {
  const { conn } = await connect({ host: "127.0.0.1", port: targetPort }, {
    proxy: { hostname: "127.0.0.1", port: proxyPort },
    auth: { username: user, password: PASSWORD },
  });
  await echo(conn, size);
  return conn;
}

async function echo(conn: Connection, size: number): Promise<void> {
  const data = payload(size, size);
  const writing = conn.write(data);
  const buffer = new Uint8Array(size);
  let filled = 0;
  while (filled < size) {
    const n = await conn.read(buffer.subarray(filled));
    if (n === null) throw new Error(`EOF after ${filled} bytes`);
    filled += n;
  }
  await writing;
}

/** The rows of one table in the dumped DOM, as `data-key → text` maps. */
function rows(dom: string, table: string): Array<Record<string, string>> {
  const start = dom.indexOf(`<table id="${table}">`);
  assert.ok(start >= 0, `no table ${table} in:\n${dom}`);
  const body = dom.slice(
    dom.indexOf("<tbody>", start),
    dom.indexOf("</tbody>", start),
  );
  return [...body.matchAll(/<tr[^>]*>(.*?)<\/tr>/g)].map(([, row]) =>
    Object.fromEntries(
      [...row!.matchAll(/<td data-key="(\w+)"[^>]*>([^<]*)<\/td>/g)].map((
        [, key, text],
      ) => [key, text]),
    )
  );
}

function text(dom: string, id: string): string {
  const match = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(dom);
  assert.ok(match, `no #${id}`);
  return match[1]!;
}

serverTest({
  name: "status page shows held sessions, user totals and replies in Chromium",
  ignore: chromium.ignore,
  async fn(_t, command) {
    chromium.assertAvailable();
    await using target = echoTarget();
    await using server = await ServerProcess.start({
      server: command,
      users: [`alice:${PASSWORD}`, `bob:${PASSWORD}`],
      args: ["--admin", "127.0.0.1:0"],
    });
    const url = (await server.waitForEvent("admin listening")).url as string;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    // A finished session (a reply to count), then two held open.
    (await session(server.port, target.addr.port, "bob", 2048)).close();
    await server.waitForSessionCount(1);
    const alice = await session(server.port, target.addr.port, "alice", 4096);
    const bob = await session(server.port, target.addr.port, "bob", 1024);
    // Traffic over a few seconds gives the chart more than one interval
    // (the admin listener samples every 2 s): bounded, 10 rounds.
    for (let i = 0; i < 10; i++) {
      await echo(alice, 32 * 1024);
      await sleep(500);
    }
    const profile = await Deno.makeTempDir({ prefix: "socks5-status-page-" });
    try {
      const dumped = await runCommand(chromium.command, [
        ...FLAGS,
        `--user-data-dir=${profile}/dom`,
        "--dump-dom",
        url,
      ], { timeoutMs: 30_000, env: { HOME: profile } });
      assertSucceeded(dumped, "chromium --dump-dom");
      const dom = dumped.stdoutText;
      const destination = `127.0.0.1:${target.addr.port}`;
      const sessions = rows(dom, "sessions")
        .map((r) => [r.user, r.protocol, r.command, r.destination])
        .sort();
      assert.deepStrictEqual(sessions, [
        ["alice", "socks5", "connect", destination],
        ["bob", "socks5", "connect", destination],
      ], dom);
      const aliceUp = 4096 + 10 * 32 * 1024; // 331776 B = 324.0 KiB
      const users = Object.fromEntries(
        rows(dom, "users").map((r) => [r.user, r]),
      );
      assert.deepStrictEqual(users.alice, {
        user: "alice",
        active: "1",
        requests: "1",
        up: `${(aliceUp / 1024).toFixed(1)} KiB`,
        down: `${(aliceUp / 1024).toFixed(1)} KiB`,
      });
      assert.deepStrictEqual(users.bob, {
        user: "bob",
        active: "1",
        requests: "2",
        up: "3.0 KiB",
        down: "3.0 KiB",
      });
      assert.deepStrictEqual(rows(dom, "replies"), [{
        protocol: "socks5",
        code: "0",
        meaning: "succeeded",
        count: "1",
      }]);
      assert.equal(text(dom, "config-generation"), "1");
      assert.equal(text(dom, "active"), "2");
      assert.equal(text(dom, "state"), "ready");
      const points = /id="up-line"[^>]*points="([^"]*)"/.exec(dom)?.[1] ??
        /points="([^"]*)"[^>]*id="up-line"/.exec(dom)?.[1] ?? "";
      assert.ok(points.split(" ").length >= 2, `chart points: "${points}"`);

      const png = `${REPO_ROOT}dist/status-page-${command.name}.png`;
      await Deno.mkdir(`${REPO_ROOT}dist`, { recursive: true });
      const shot = await runCommand(chromium.command, [
        ...FLAGS,
        `--user-data-dir=${profile}/shot`,
        "--hide-scrollbars",
        `--screenshot=${png}`,
        url,
      ], { timeoutMs: 30_000, env: { HOME: profile } });
      assertSucceeded(shot, "chromium --screenshot");
      const bytes = await Deno.readFile(png);
      assert.deepStrictEqual(
        [...bytes.subarray(0, 8)],
        [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      );
      assert.ok(bytes.length > 10_000, `${png}: ${bytes.length} bytes`);
    } finally {
      alice.close();
      bob.close();
      await Deno.remove(profile, { recursive: true });
    }
  },
});
