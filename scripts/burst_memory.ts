/**
 * `deno task burst-memory`: what a server's memory does after a burst of
 * idle connections. For each server command it opens `--connections`
 * tunnels (one CONNECT and a 32-byte echo each, then idle), closes them all
 * and samples the process at every step: resident and proportional set size
 * from `/proc`, the JavaScript heap from the admin listener's `/metrics`.
 * `--rounds` repeats the burst, to tell retained memory (the second round
 * reuses it) from a leak (it grows again). `--force-gc` runs Deno and Bun
 * from entries that collect all garbage on SIGUSR2, to show how much of what
 * stays is garbage the engine has not returned yet.
 *
 * ```sh
 * deno task burst-memory --connections 9900 --settle 60s --rounds 2
 * deno task burst-memory --server deno --force-gc
 * deno task burst-memory --server deno --v8-flags=--max-semi-space-size=1
 * ```
 *
 * The task runs with `--allow-all` because Deno lets only a fully permitted
 * program read another process's `/proc` files. Loopback only; needs about 4 descriptors per connection across the
 * processes (`ulimit -n` at least `--connections` + 100 for each).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { openEchoedTunnel, runPool } from "./bench/pool.ts";
import { sampleTree } from "./bench/proc_stats.ts";
import { freePort } from "./bench/free_port.ts";
import { ServerProcess } from "./bench/server_process.ts";
import { sleep } from "./bench/sleep.ts";
import { parseCount, parseDuration } from "../src/config/values.ts";
import { TargetProcess } from "./bench/target_process.ts";
import { REPO_ROOT, SERVER_NAMES, serverCommands } from "./server_command.ts";

/** Tunnels opened at once. */
const OPEN_CONCURRENCY = 100;
/** Tunnels opened and closed before the baseline sample. */
const PREWARM = 100;
/** Payload of each echo. */
const MESSAGE_BYTES = 32;
/** Longest the opening of one burst may take, ms. */
const OPEN_LIMIT_MS = 120_000;
/** Pause before a sample after a change, ms. */
const SHORT_SETTLE_MS = 1000;

const USAGE = `deno task burst-memory [options]

  --server LIST      deno, bun, exe (comma-separated). Default: all three.
  --connections N    Tunnels per burst, 1-20000. Default 9900.
  --rounds N         Bursts one after the other. Default 2.
  --settle T         Wait after closing a burst before the last sample
                     (ms, s, m). Default 60s.
  --force-gc         Deno and Bun: a full garbage collection after the
                     settle, then one more sample (the executable cannot).
  --v8-flags FLAGS   Passed to deno run (the deno server only).
  --help             This text.
`;

/** One sample of the server. */
interface MemorySample {
  phase: string;
  rssKib: number | undefined;
  pssKib: number | undefined;
  heapUsed: number | undefined;
  heapTotal: number | undefined;
  external: number | undefined;
}

async function _heap(adminPort: number): Promise<Record<string, number>> {
  const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  const text = await response.text();
  const values: Record<string, number> = {};
  for (
    const name of [
      "socks5_heap_used_bytes",
      "socks5_heap_total_bytes",
      "socks5_external_memory_bytes",
    ]
  ) {
    const line = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    if (line) values[name] = Number(line[1]);
  }
  return values;
}

/** Longest the admin listener may take to answer after the SOCKS port, ms. */
const ADMIN_START_MS = 10_000;

async function _waitForAdmin(adminPort: number): Promise<void> {
  const deadline = performance.now() + ADMIN_START_MS;
  // Bounded by the deadline: the admin listener opens after the SOCKS one.
  for (;;) {
    try {
      await _heap(adminPort);
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

async function _sample(
  phase: string,
  pid: number,
  adminPort: number,
): Promise<MemorySample> {
  // The heap first: the scrape itself allocates, and RSS should include it.
  const heap = await _heap(adminPort);
  const tree = sampleTree(pid);
  return {
    phase,
    rssKib: tree?.rssKib,
    pssKib: tree?.pssKib,
    heapUsed: heap["socks5_heap_used_bytes"],
    heapTotal: heap["socks5_heap_total_bytes"],
    external: heap["socks5_external_memory_bytes"],
  };
}

function _mib(value: number | undefined, unit: number): string {
  return value === undefined ? "n/a" : (value / unit).toFixed(1);
}

function _print(server: string, samples: readonly MemorySample[]): void {
  console.log(`\n${server}`);
  console.log(
    "| phase | RSS MiB | PSS MiB | heap used MiB | heap total MiB | external MiB |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const s of samples) {
    console.log(
      `| ${s.phase} | ${_mib(s.rssKib, 1024)} | ${_mib(s.pssKib, 1024)} | ${
        _mib(s.heapUsed, 1 << 20)
      } | ${_mib(s.heapTotal, 1 << 20)} | ${_mib(s.external, 1 << 20)} |`,
    );
  }
}

async function _burst(
  server: ServerProcess,
  echoPort: number,
  count: number,
  errors: { count: number; last: string },
): Promise<{ held: Deno.TcpConn[]; ready: number }> {
  const route = {
    proxy: { hostname: "127.0.0.1", port: server.port },
    destination: { hostname: "127.0.0.1", port: echoPort },
  };
  const message = new Uint8Array(MESSAGE_BYTES).fill(0x42);
  const held: Deno.TcpConn[] = [];
  const ready = await runPool(
    count,
    OPEN_CONCURRENCY,
    OPEN_LIMIT_MS,
    (_i, dialer) =>
      openEchoedTunnel(dialer, message, (conn) => held.push(conn)),
    route,
    errors,
  );
  return { held, ready };
}

function _closeAll(conns: readonly Deno.TcpConn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

async function _measure(
  name: (typeof SERVER_NAMES)[number],
  options: {
    connections: number;
    rounds: number;
    settleMs: number;
    forceGc: boolean;
    v8Flags: string | undefined;
  },
  echoPort: number,
): Promise<void> {
  const command = serverCommands().find((c) => c.name === name)!;
  if (command.missing !== null) {
    console.log(`\n${name}: skipped, ${command.missing}`);
    return;
  }
  const collect = options.forceGc && name !== "exe";
  // The same command line, with V8 flags after `deno run` and, to collect,
  // the entry that collects on SIGUSR2 in place of the shipped one (last).
  const [first, ...rest] = command.prefix;
  const v8Flags = [
    ...(collect && name === "deno" ? ["--expose-gc"] : []),
    ...(options.v8Flags !== undefined && name === "deno"
      ? [options.v8Flags]
      : []),
  ];
  const prefix = v8Flags.length > 0
    ? [first!, `--v8-flags=${v8Flags.join(",")}`, ...rest]
    : [...command.prefix];
  if (collect) {
    prefix[prefix.length - 1] =
      `${REPO_ROOT}scripts/burst/collectable_${name}.ts`;
  }
  const port = freePort();
  const adminPort = freePort();
  const server = await ServerProcess.start({
    command: command.program,
    args: [
      ...prefix,
      "--listen",
      `127.0.0.1:${port}`,
      "--admin",
      `127.0.0.1:${adminPort}`,
      "--max-sessions",
      String(options.connections + OPEN_CONCURRENCY),
    ],
  }, port);
  const samples: MemorySample[] = [];
  const errors = { count: 0, last: "" };
  try {
    await _waitForAdmin(adminPort);
    samples.push(await _sample("start", server.pid, adminPort));
    _closeAll((await _burst(server, echoPort, PREWARM, errors)).held);
    await sleep(SHORT_SETTLE_MS);
    samples.push(await _sample("baseline", server.pid, adminPort));
    for (let round = 1; round <= options.rounds; round++) {
      const { held, ready } = await _burst(
        server,
        echoPort,
        options.connections,
        errors,
      );
      try {
        await sleep(SHORT_SETTLE_MS);
        samples.push(
          await _sample(`round ${round}: ${ready} held`, server.pid, adminPort),
        );
      } finally {
        _closeAll(held);
      }
      await sleep(SHORT_SETTLE_MS);
      samples.push(
        await _sample(`round ${round}: closed, 1 s`, server.pid, adminPort),
      );
      if (options.settleMs > SHORT_SETTLE_MS) {
        await sleep(options.settleMs - SHORT_SETTLE_MS);
        samples.push(
          await _sample(
            `round ${round}: closed, ${options.settleMs / 1000} s`,
            server.pid,
            adminPort,
          ),
        );
      }
      if (collect) {
        Deno.kill(server.pid, "SIGUSR2");
        await sleep(SHORT_SETTLE_MS);
        samples.push(
          await _sample(`round ${round}: after full GC`, server.pid, adminPort),
        );
      }
    }
  } finally {
    await server.stop();
  }
  const label = `${name}${collect ? " (--force-gc)" : ""}${
    options.v8Flags === undefined || name !== "deno"
      ? ""
      : ` (--v8-flags=${options.v8Flags})`
  }`;
  _print(label, samples);
  if (errors.count > 0) {
    console.log(`${errors.count} tunnels failed; last: ${errors.last}`);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      server: { type: "string", default: SERVER_NAMES.join(",") },
      connections: { type: "string", default: "9900" },
      rounds: { type: "string", default: "2" },
      settle: { type: "string", default: "60s" },
      "force-gc": { type: "boolean", default: false },
      "v8-flags": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let names: (typeof SERVER_NAMES)[number][];
  let options;
  try {
    names = values.server.split(",").map((n) => {
      if (!(SERVER_NAMES as readonly string[]).includes(n)) {
        throw new Error(`--server: unknown server "${n}"`);
      }
      return n as (typeof SERVER_NAMES)[number];
    });
    options = {
      connections: parseCount(values.connections, "--connections", 20_000),
      rounds: parseCount(values.rounds, "--rounds", 10),
      settleMs: parseDuration(values.settle, "--settle"),
      forceGc: values["force-gc"],
      v8Flags: values["v8-flags"],
    };
  } catch (error) {
    console.error((error as Error).message);
    console.error(USAGE);
    Deno.exit(2);
  }
  const lifetime = names.length *
    (options.rounds * (OPEN_LIMIT_MS + options.settleMs + 10_000) + 30_000) /
    1000;
  const target = await TargetProcess.start(
    `${REPO_ROOT}scripts/bench/target.ts`,
    lifetime,
  );
  try {
    console.log(
      `burst-memory: ${options.connections} tunnels x ${options.rounds} rounds, settle ${
        options.settleMs / 1000
      } s`,
    );
    for (const name of names) {
      await _measure(name, options, target.port("echo"));
    }
  } finally {
    await target.stop();
  }
}
