import assert from "node:assert/strict";
import { connect } from "../../src/mod.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { echoTarget } from "../_helpers/targets.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function run(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: output.code,
    stdout: decode(output.stdout),
    stderr: decode(output.stderr),
  };
}

Deno.test("main() exits 2 with one line naming the bad flag", async (t) => {
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
      const { code, stderr } = await run(args);
      assert.equal(code, 2);
      assert.match(stderr, pattern);
      assert.equal(stderr.trimEnd().split("\n").length, 1);
    });
  }
});

Deno.test("main() prints help and version on stdout and exits 0", async () => {
  const help = await run(["--help"]);
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
  const version = await run(["--version"]);
  assert.equal(version.code, 0);
  assert.match(
    version.stdout,
    /^socks5-deno \d+\.\d+\.\d+ \((deno|bun) [^)]+\)\n$/,
  );
});

Deno.test("main() refuses an open proxy on a non-loopback address and exits 1", async () => {
  const { code, stderr } = await run(["--listen", "0.0.0.0:0"]);
  assert.equal(code, 1);
  assert.match(stderr, /without authentication/);
  assert.match(stderr, /--allow-open-proxy/);
});

/** Spawns the CLI with JSON logs and reads stderr until `marker` appears. */
async function spawnUntil(extra: string[], marker: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      MAIN,
      "--log-format",
      "json",
      ...extra,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes(marker)) {
    const { value, done } = await lines.read();
    if (done) break;
    text += value;
  }
  /** Sends SIGTERM, drains stderr and returns the exit code. */
  const stop = async () => {
    child.kill("SIGTERM");
    while (!(await lines.read()).done) { /* drain until the process exits */ }
    return (await child.status).code;
  };
  return { text, stop };
}

Deno.test("main() shuts down on SIGTERM and exits 0", async () => {
  const { text, stop } = await spawnUntil(
    ["--listen", "127.0.0.1:0"],
    '"msg":"listening"',
  );
  const address = /"address":"([^"]+)"/.exec(text)![1]!;
  const [hostname, port] = address.split(":");
  const conn = await Deno.connect({ hostname: hostname!, port: Number(port) });
  conn.close();
  assert.equal(await stop(), 0);
});

Deno.test("main() with --workers 2 listens twice on one port, serves, and exits 0 on SIGTERM", async () => {
  await using target = echoTarget();
  const { text, stop } = await spawnUntil(
    ["--listen", "127.0.0.1:0", "--workers", "2"],
    '"workers started"',
  );
  const addresses = [...text.matchAll(/"msg":"listening","address":"([^"]+)"/g)]
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
});
