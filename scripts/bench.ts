/**
 * `deno task bench`: the project's own, self-contained benchmark.
 *
 * Starts the real server (`main.ts`) as a process, a local target process
 * (echo, sink, source) and, per measurement, a load-generator process; drives
 * throughput, connection-rate and idle-memory workloads through the proxy and
 * straight to the target (`direct`), and prints medians and ratios to direct
 * as a Markdown table. microsocks and Dante are included when installed.
 * Everything stays on 127.0.0.1 and every run is bounded in time.
 *
 * Run `deno task bench --help` for the options.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { hashPassword } from "../src/auth/password_hash.ts";
import { runLoad } from "./bench/load_process.ts";
import { freePort } from "./bench/free_port.ts";
import {
  DIRECT,
  foreignCpu,
  legend,
  medians,
  renderPeerRatios,
  renderTable,
  type RunRecord,
} from "./bench/report.ts";
import { ServerProcess } from "./bench/server_process.ts";
import {
  bunBare,
  dante,
  findExecutable,
  microsocks,
  type ServerKind,
  socks5Deno,
  socks5DenoExe,
} from "./bench/servers.ts";
import type { Credentials } from "./bench/socks_client.ts";
import { TargetProcess } from "./bench/target_process.ts";
import { findBun } from "./bun.ts";
import { findWorkload, type Workload, WORKLOADS } from "./bench/workloads.ts";

const HELP = `deno task bench [options]

Benchmarks socks5-deno (on Deno, and the single executable when built)
against a direct connection and, when installed, microsocks and Dante on
loopback; prints medians, ratios to direct and ratios to those peers.

Options:
  --reps N             repetitions per workload, median reported (default 3)
  --secs S             measurement window per run, seconds (default 4)
  --workloads LIST     comma list (default all):
${
  WORKLOADS.map((w) =>
    `                         ${w.name.padEnd(9)} ${w.description}`
  ).join("\n")
}
  --servers LIST       comma list of socks5-deno, socks5-deno-exe, direct,
                       microsocks, danted, bun-bare (default: all that are
                       available but bun-bare; socks5-deno-exe is
                       dist/socks5-deno, deno task build; bun-bare is the
                       ceiling: a bare CONNECT relay on Bun's sockets,
                       scripts/bench/bare_bun_relay.ts, on the pinned Bun)
  --log-level LEVEL    socks5-deno --log-level during the run (default warn:
                       the info access log costs a line per session)
  --json               print machine-readable results instead of the table
  --help               show this help

Default run: about 7-8 minutes with all four servers; --reps 1 --secs 2
takes about 1.5 minutes.`;

/** The opt-in ceiling (see scripts/bench/bare_bun_relay.ts). */
const _BUN_BARE = "bun-bare";

/** Credentials of the auth instances; loopback only, never a real secret. */
const BENCH_CREDENTIALS: Credentials = { user: "bench", pass: "secret" };
let _hash: Promise<string> | undefined;
/** A bcrypt hash of the bench password (what `htpasswd -B` would store). */
function _benchHash(): Promise<string> {
  return _hash ??= hashPassword(BENCH_CREDENTIALS.pass, "bcrypt");
}
/** Seconds the idle workload holds its tunnels before checking they still echo. */
const IDLE_HOLD_SECS = 1;

interface _Options {
  reps: number;
  secs: number;
  warmupSecs: number;
  workloads: Workload[];
  servers: string[];
  logLevel: string;
  json: boolean;
}

function _path(relative: string): string {
  return fileURLToPath(new URL(relative, import.meta.url));
}

function _parse(args: string[]): _Options | undefined {
  const { values } = parseArgs({
    args,
    options: {
      reps: { type: "string", default: "3" },
      secs: { type: "string", default: "4" },
      workloads: { type: "string" },
      servers: { type: "string" },
      "log-level": { type: "string", default: "warn" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return undefined;
  const reps = Number(values.reps);
  if (!(Number.isInteger(reps) && reps >= 1 && reps <= 20)) {
    throw new RangeError(
      `--reps must be an integer in [1, 20]: "${values.reps}"`,
    );
  }
  const secs = Number(values.secs);
  if (!(secs >= 0.5 && secs <= 60)) {
    throw new RangeError(`--secs must be in [0.5, 60]: "${values.secs}"`);
  }
  const workloads = values.workloads === undefined
    ? [...WORKLOADS]
    : values.workloads.split(",").map((name) => {
      const w = findWorkload(name.trim());
      if (!w) throw new RangeError(`Unknown workload: "${name}" (see --help)`);
      return w;
    });
  // Keep the catalogue order whatever the command-line order: idle first.
  workloads.sort((a, b) => WORKLOADS.indexOf(a) - WORKLOADS.indexOf(b));
  const known = [
    "socks5-deno",
    "socks5-deno-exe",
    DIRECT,
    "microsocks",
    "danted",
    _BUN_BARE,
  ];
  const servers = values.servers === undefined
    ? known.filter((s) => s !== _BUN_BARE)
    : values.servers.split(",").map((s) => s.trim());
  for (const s of servers) {
    if (!known.includes(s)) {
      throw new RangeError(
        `Unknown server: "${s}" (one of ${known.join(", ")})`,
      );
    }
  }
  const logLevel = values["log-level"] ?? "warn";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    throw new RangeError(
      `--log-level must be debug, info, warn or error: "${logLevel}"`,
    );
  }
  return {
    reps,
    secs,
    // Enough for TCP windows and JIT to settle; short runs get a short one.
    warmupSecs: Math.min(0.5, secs / 4),
    workloads,
    servers: [...new Set(servers)],
    logLevel,
    json: values.json ?? false,
  };
}

/** Resolves server names to launchers; unavailable ones become notes. */
function _resolveServers(
  names: string[],
  logLevel: string,
  notes: string[],
): Map<string, ServerKind | null> {
  const out = new Map<string, ServerKind | null>();
  for (const name of names) {
    if (name === DIRECT) {
      out.set(DIRECT, null);
    } else if (name === "socks5-deno") {
      const main = _path("../main.ts");
      try {
        Deno.statSync(main);
        out.set(name, socks5Deno({ root: _path(".."), main }, logLevel));
      } catch {
        notes.push(`socks5-deno skipped: ${main} not found.`);
      }
    } else if (name === "socks5-deno-exe") {
      const exe = _path("../dist/socks5-deno");
      try {
        Deno.statSync(exe);
        out.set(name, socks5DenoExe(exe, logLevel));
      } catch {
        notes.push(
          "socks5-deno-exe skipped: dist/socks5-deno not built (deno task build).",
        );
      }
    } else if (name === _BUN_BARE) {
      const bun = findBun();
      if (bun) {
        out.set(name, bunBare(bun, _path("./bench/bare_bun_relay.ts")));
      } else {
        notes.push(
          "bun-bare skipped: the pinned Bun is not installed (deno task build installs it).",
        );
      }
    } else if (name === "microsocks") {
      const exe = findExecutable("microsocks");
      if (exe) {
        out.set(name, microsocks(exe));
      } else {
        notes.push(
          "microsocks not installed; not compared (apt install microsocks).",
        );
      }
    } else if (name === "danted") {
      const exe = findExecutable("danted", ["/usr/sbin", "/usr/local/sbin"]);
      let root = false;
      try {
        root = Deno.uid() === 0;
      } catch {
        // no --allow-sys: assume not root
      }
      // Dante reads its configuration from a file, written to the temp dir.
      const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
      const canWrite =
        Deno.permissions.querySync({ name: "write", path: tmp }).state ===
          "granted";
      if (!exe) {
        notes.push(
          "danted not installed; not compared (apt install dante-server).",
        );
      } else if (!canWrite) {
        notes.push(
          `danted skipped: needs --allow-write for its config file in ${tmp}.`,
        );
      } else out.set(name, dante(exe, root));
    }
  }
  return out;
}

/** Every process this run started and has not stopped yet. */
const _live = new Set<{ stop(): Promise<void> }>();

async function _stopAll(): Promise<void> {
  await Promise.allSettled([..._live].map((p) => p.stop()));
  _live.clear();
}

async function _startServer(
  kind: ServerKind,
  credentials?: Credentials,
): Promise<ServerProcess> {
  const port = freePort();
  const server = await ServerProcess.start(
    kind.launch(port, credentials),
    port,
  );
  _live.add(server);
  return server;
}

async function _stopServer(server: ServerProcess | undefined): Promise<void> {
  if (!server) return;
  _live.delete(server);
  await server.stop();
}

function _headline(record: RunRecord, ms: number): string {
  const r = record.result;
  const figure = r === undefined
    ? `error: ${record.error}`
    : r.mbPerSec !== undefined
    ? `${r.mbPerSec.toFixed(0)} MB/s`
    : r.connPerSec !== undefined
    ? `${r.connPerSec.toFixed(0)} conn/s p99 ${r.p99Ms?.toFixed(2)} ms`
    : r.exchangesPerSec !== undefined
    ? `first exchange p50 ${r.p50Ms?.toFixed(2)} ms p99 ${
      r.p99Ms?.toFixed(2)
    } ms, later p50 ${r.laterP50Ms?.toFixed(2)} ms`
    : `${
      r.pssKibPerConn?.toFixed(1)
    } KiB/conn, ${r.idleReady}/${r.idleConns} ready, ${r.idleAlive} alive`;
  const errors = r && r.errors > 0
    ? ` (${r.errors} errors: ${r.lastError})`
    : "";
  return `rep ${record.rep} ${record.workload.padEnd(9)} ${
    record.server.padEnd(12)
  } ${figure}${errors} [${(ms / 1000).toFixed(1)} s]`;
}

async function _run(options: _Options): Promise<void> {
  const notes: string[] = [];
  const kinds = _resolveServers(options.servers, options.logLevel, notes);
  const names = [...kinds.keys()];
  if (names.length === 0) throw new Error("No server to benchmark");
  const loadScript = _path("./bench/load.ts");
  const perRun = options.secs + options.warmupSecs;
  // Generous upper bound on the whole run; the target exits by itself after it.
  const lifetime = 600 +
    options.reps * options.workloads.length * names.length * (perRun + 30);
  const target = await TargetProcess.start(
    _path("./bench/target.ts"),
    lifetime,
  );
  _live.add(target);
  const records: RunRecord[] = [];

  for (let rep = 1; rep <= options.reps; rep++) {
    // Rotate the order each repetition so slow drift on a shared machine
    // does not always favour the same server.
    const shift = (rep - 1) % names.length;
    const order = [...names.slice(shift), ...names.slice(0, shift)];
    const servers = new Map<string, ServerProcess>();
    const startErrors = new Map<string, string>();
    for (const name of order) {
      const kind = kinds.get(name);
      if (!kind) continue;
      try {
        servers.set(name, await _startServer(kind));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        startErrors.set(name, message);
        notes.push(`${name} did not start in rep ${rep}: ${message}`);
        console.error(`rep ${rep} ${name} did not start: ${message}`);
      }
    }
    try {
      for (const w of options.workloads) {
        for (const name of order) {
          const kind = kinds.get(name) ?? null;
          if (name === DIRECT && (w.kind === "idle" || w.directAs)) continue;
          if (w.auth && kind && !kind.supportsAuth) continue;
          if (w.hashed && kind && !kind.supportsHashes) continue;
          if (startErrors.has(name)) continue;
          const record: RunRecord = { server: name, workload: w.name, rep };
          const t0 = performance.now();
          let authServer: ServerProcess | undefined;
          try {
            let proxy: ServerProcess | undefined;
            if (kind) {
              proxy = servers.get(name);
              if (proxy?.exited) {
                notes.push(
                  `${name} exited during rep ${rep} before ${w.name}: ${proxy.stderrTail()}`,
                );
                _live.delete(proxy);
                proxy = await _startServer(kind);
                servers.set(name, proxy);
              }
              if (w.auth) {
                proxy = authServer = await _startServer(
                  kind,
                  w.hashed
                    ? { ...BENCH_CREDENTIALS, hash: await _benchHash() }
                    : BENCH_CREDENTIALS,
                );
              }
            }
            const args = [
              "--kind",
              w.kind,
              "--conns",
              String(w.conns),
              "--target",
              `127.0.0.1:${target.port(w.target)}`,
              "--secs",
              String(options.secs),
              "--warmup",
              String(options.warmupSecs),
              "--hold",
              String(IDLE_HOLD_SECS),
              "--bytes",
              String(w.bytes ?? 1024),
              "--target-pid",
              String(target.pid),
            ];
            if (proxy) {
              args.push(
                "--proxy",
                `127.0.0.1:${proxy.port}`,
                "--pid",
                String(proxy.pid),
              );
            }
            if (w.auth) {
              args.push(
                "--user",
                BENCH_CREDENTIALS.user,
                "--pass",
                BENCH_CREDENTIALS.pass,
              );
            }
            record.result = await runLoad(
              loadScript,
              args,
              (perRun + 90) * 1000,
            );
          } catch (error) {
            record.error = error instanceof Error
              ? error.message
              : String(error);
          } finally {
            await _stopServer(authServer);
          }
          records.push(record);
          console.error(_headline(record, performance.now() - t0));
        }
      }
    } finally {
      for (const s of servers.values()) await _stopServer(s);
    }
  }
  _live.delete(target);
  await target.stop();

  const failures = records.filter((r) =>
    r.error !== undefined || (r.result?.errors ?? 0) > 0
  );
  for (const f of failures) {
    notes.push(
      `${f.server} ${f.workload} rep ${f.rep}: ${
        f.error ?? `${f.result?.errors} errors, last: ${f.result?.lastError}`
      }`,
    );
  }
  const noAuth = new Set(
    names.filter((n) => kinds.get(n)?.supportsAuth === false),
  );
  if (options.json) {
    console.log(JSON.stringify(
      {
        deno: Deno.version.deno,
        cores: navigator.hardwareConcurrency,
        reps: options.reps,
        secs: options.secs,
        warmupSecs: options.warmupSecs,
        servers: names,
        workloads: options.workloads.map((w) => w.name),
        medians: medians(records, names, options.workloads),
        runs: records,
        notes,
      },
      null,
      2,
    ));
    return;
  }
  const cores = navigator.hardwareConcurrency;
  let load = "";
  try {
    load = `, load average ${
      Deno.loadavg().map((x) => x.toFixed(2)).join(" ")
    }`;
  } catch {
    // no --allow-sys
  }
  console.log(`# socks5-deno benchmark\n`);
  console.log(
    `Deno ${Deno.version.deno}, ${cores} cores${load}, ${
      new Date().toISOString()
    }\n`,
  );
  console.log(
    renderTable(records, {
      servers: names,
      workloads: options.workloads,
      noAuth,
    }),
  );
  const ours = names.filter((n) => n.startsWith("socks5-deno"));
  const peers = names.filter((n) => n !== DIRECT && !ours.includes(n));
  const versus = renderPeerRatios(records, {
    ours,
    peers,
    workloads: options.workloads,
    noAuth,
  });
  if (versus !== "") {
    console.log(
      "\nAgainst the other servers (conn/s, MB/s: above 1× is better; " +
        "p99, KiB/conn, base RSS: below 1× is better):\n",
    );
    console.log(versus);
  }
  console.log(`\n${legend(options.reps, options.secs, cores)}`);
  const foreign = foreignCpu(records);
  if (foreign !== undefined) {
    console.log(
      `- Other processes on this machine used a median ${
        foreign.toFixed(0)
      } % CPU during the windows` +
        (foreign > 25 ? " (busy machine: treat the figures with care)." : "."),
    );
  }
  if (notes.length > 0) {
    console.log(
      `\nNotes:\n${[...new Set(notes)].map((n) => `- ${n}`).join("\n")}`,
    );
  }
}

if (import.meta.main) {
  let options: _Options | undefined;
  try {
    options = _parse(Deno.args);
  } catch (error) {
    console.error(
      `bench: ${error instanceof Error ? error.message : String(error)}`,
    );
    Deno.exit(2);
  }
  if (options === undefined) {
    console.log(HELP);
    Deno.exit(0);
  }
  const onSignal = () => {
    console.error("bench: interrupted, stopping the processes it started");
    _stopAll().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    await _run(options);
  } catch (error) {
    console.error(
      `bench: ${error instanceof Error ? error.message : String(error)}`,
    );
    await _stopAll();
    Deno.exit(1);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}
