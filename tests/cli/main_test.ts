import assert from "node:assert/strict";
import { connect } from "../../src/mod.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import {
  commandLine,
  EXECUTABLE,
  REQUIRE_ALL,
  runToExit,
  SERVER_COMMANDS,
  type ServerCommand,
  serverTest,
} from "../_helpers/server_commands.ts";
import { echoTarget } from "../_helpers/targets.ts";
import { watchStderr } from "../_helpers/stderr_watch.ts";

serverTest({
  name: "main() exits 2 with one line naming the bad flag",
  async fn(t, server) {
    const cases: Array<[string[], RegExp]> = [
      [["--listen", "nonsense"], /^socks5-deno: --listen: expected HOST:PORT/],
      [["--bogus"], /^socks5-deno: Unknown option '--bogus'/],
      [
        ["--log-level", "loud"],
        /^socks5-deno: --log-level: expected debug, info, warn or error/,
      ],
      [
        ["--idle-timeout", "soon"],
        /^socks5-deno: --idle-timeout: expected a duration/,
      ],
      [
        ["--max-sessions", "0"],
        /^socks5-deno: --max-sessions: expected a positive integer/,
      ],
      [["--user", "alice"], /^socks5-deno: --user: expected NAME:PASS/],
    ];
    for (const [args, pattern] of cases) {
      await t.step(args.join(" "), async () => {
        const { code, stderr } = await runToExit(server, args);
        assert.equal(code, 2);
        assert.match(stderr, pattern);
        assert.equal(stderr.trimEnd().split("\n").length, 1);
      });
    }
  },
});

serverTest({
  name: "main() prints help and version on stdout and exits 0",
  async fn(_t, server) {
    const help = await runToExit(server, ["--help"]);
    assert.equal(help.code, 0);
    for (
      const flag of [
        "--listen",
        "--user",
        "--users-file",
        "--max-sessions",
        "--log-format",
        "--allow-open-proxy",
      ]
    ) {
      assert.ok(help.stdout.includes(flag), `help mentions ${flag}`);
    }
    const version = await runToExit(server, ["--version"]);
    assert.equal(version.code, 0);
    assert.match(
      version.stdout,
      /^socks5-deno \d+\.\d+\.\d+ \((deno|bun) [^)]+\)\n$/,
    );
  },
});

serverTest({
  name: "main() refuses an open proxy on a non-loopback address and exits 1",
  async fn(_t, server) {
    const { code, stderr } = await runToExit(server, ["--listen", "0.0.0.0:0"]);
    assert.equal(code, 1);
    assert.match(stderr, /without authentication/);
    assert.match(stderr, /--allow-open-proxy/);
  },
});

/** Spawns the CLI with JSON logs and reads stderr until `marker` appears. */
async function spawnUntil(
  server: ServerCommand,
  extra: string[],
  marker: string,
) {
  const line = commandLine(server, ["--log-format", "json", ...extra]);
  const child = new Deno.Command(line.program, {
    args: line.args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = watchStderr(child);
  await stderr.until(marker);
  return { text: stderr.text(), stop: stderr.stop, until: stderr.until, child };
}

serverTest({
  name: "main() shuts down on SIGTERM and exits 0",
  async fn(_t, server) {
    const { text, stop } = await spawnUntil(
      server,
      ["--listen", "127.0.0.1:0"],
      '"msg":"listening"',
    );
    const address = /"address":"([^"]+)"/.exec(text)![1]!;
    const [hostname, port] = address.split(":");
    const conn = await Deno.connect({
      hostname: hostname!,
      port: Number(port),
    });
    conn.close();
    assert.equal(await stop(), 0);
  },
});

serverTest({
  name:
    "main() with --workers 2 listens twice on one port, serves, and exits 0 on SIGTERM",
  async fn(_t, server) {
    await using target = echoTarget();
    const { text, stop } = await spawnUntil(
      server,
      ["--listen", "127.0.0.1:0", "--workers", "2"],
      '"workers started"',
    );
    const addresses = [
      ...text.matchAll(/"msg":"listening","address":"([^"]+)"/g),
    ]
      .map((m) => m[1]);
    assert.equal(addresses.length, 2);
    assert.equal(addresses[0], addresses[1]);
    const port = Number(addresses[0]!.split(":")[1]);
    for (let i = 0; i < 8; i++) {
      const { conn } = await connect({
        host: "127.0.0.1",
        port: target.addr.port,
      }, {
        proxy: { hostname: "127.0.0.1", port },
      });
      const client = new RawClient(conn);
      await client.send("07");
      assert.equal(await client.readHex(1), "07");
      client.close();
    }
    assert.equal(await stop(), 0);
  },
});

serverTest({
  name: "main() keeps serving when it receives SIGHUP and SIGUSR1",
  async fn(_t, server) {
    await using target = echoTarget();
    const { text, stop, until, child } = await spawnUntil(
      server,
      ["--listen", "127.0.0.1:0"],
      '"msg":"listening"',
    );
    const port = Number(/"address":"[^"]+:(\d+)"/.exec(text)![1]);
    let generation = 1;
    for (const signal of ["SIGHUP", "SIGUSR1", "SIGHUP"] as const) {
      child.kill(signal);
      // SIGHUP reloads (a new generation); SIGUSR1 is logged.
      const marker = signal === "SIGHUP"
        ? `"msg":"reloaded","generation":${++generation}`
        : `"signal":"${signal}"`;
      assert.ok(await until(marker), `exited after ${signal}`);
      const { conn } = await connect(
        { host: "127.0.0.1", port: target.addr.port },
        { proxy: { hostname: "127.0.0.1", port } },
      );
      const client = new RawClient(conn);
      await client.send("2a");
      assert.equal(await client.readHex(1), "2a");
      client.close();
    }
    assert.equal(await stop(), 0);
  },
});

serverTest({
  name: "main() names itself in --help the way it was started",
  async fn(_t, server) {
    const { stdout } = await runToExit(server, ["--help"]);
    const expected = {
      deno: "deno run --allow-net main.ts",
      bun: "bun main_bun.ts",
      exe: "socks5-deno",
    }[server.name];
    assert.match(stdout, new RegExp(`^Usage: ${expected} \\[options\\]$`, "m"));
  },
});

Deno.test({
  name:
    "the executable serves with no Deno or Bun installed (empty environment, /usr/bin:/bin only)",
  ignore: SERVER_COMMANDS.every((s) => s.name !== "exe") ||
    (!REQUIRE_ALL &&
      SERVER_COMMANDS.find((s) => s.name === "exe")!.missing !== null),
  async fn() {
    await using target = echoTarget();
    const child = new Deno.Command(EXECUTABLE, {
      args: [
        "--listen",
        "127.0.0.1:0",
        "--log-format",
        "json",
        "--workers",
        "2",
      ],
      clearEnv: true,
      env: { PATH: "/usr/bin:/bin" },
      cwd: "/",
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = watchStderr(child);
    await stderr.until('"workers started"');
    const text = stderr.text();
    let code;
    try {
      const port = Number(/"address":"[^"]+:(\d+)"/.exec(text)![1]);
      const { conn } = await connect(
        { host: "127.0.0.1", port: target.addr.port },
        { proxy: { hostname: "127.0.0.1", port } },
      );
      const client = new RawClient(conn);
      await client.send("11 22");
      assert.equal(await client.readHex(2), "11 22");
      client.close();
    } finally {
      code = await stderr.stop();
    }
    assert.equal(code, 0, text);
  },
});

Deno.test("on Deno, GSS-API without --allow-ffi refuses to start, naming the flag", async () => {
  const deno = SERVER_COMMANDS.find((c) => c.name === "deno")!;
  // `deno run --allow-net --allow-read main.ts`, as README's start command
  // plus the keytab's read: no --allow-ffi.
  assert.ok(!deno.prefix.includes("--allow-ffi"));
  const keytab = await Deno.makeTempFile({ suffix: ".keytab" });
  try {
    const { code, stderr } = await runToExit(deno, [
      "--listen",
      "127.0.0.1:0",
      "--gssapi-keytab",
      keytab,
      "--gssapi-service",
      "rcmd",
    ]);
    assert.equal(code, 1);
    assert.match(stderr, /cannot start.*GSS-API library.*--allow-ffi/);
  } finally {
    await Deno.remove(keytab);
  }
});
