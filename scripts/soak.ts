/**
 * `deno task soak`: a long run of mixed load with faults against the real
 * server, to show that it loses no byte and leaks nothing.
 *
 * Starts `main.ts` as a process on loopback (JSON logs at level warn, a
 * metrics endpoint), a TCP echo, a resetting TCP target and a UDP echo, and
 * runs `--concurrency` workers for `--duration`. Each worker loops over
 * verified CONNECT echoes (1 KiB to 1 MiB), UDP ASSOCIATE echoes, BIND
 * exchanges in both directions, and faults: clients that vanish
 * mid-transfer, targets that reset, garbage handshakes, abandoned BINDs.
 * Every `--report-every` it prints a row: operations, verified MiB, errors,
 * mismatches, lost datagrams, the server's active and total sessions and its
 * RSS.
 *
 * Verdict (exit code 1 when any fails): no payload mismatch; no unexpected
 * error in more than 0.1 % of operations; the server alive to the end, with
 * no error-level log, every session ended within 30 s of the load stopping,
 * and a clean exit on SIGTERM; and RSS plateaued (see `soak/verdict.ts`).
 *
 * ```sh
 * deno task soak                        # 10 minutes
 * deno task soak --duration 60s --concurrency 16 --report-every 10s
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseCount, parseDuration } from "../src/config/values.ts";
import { SERVER_NAMES, serverCommands } from "./server_command.ts";
import { SoakServer } from "./soak/server.ts";
import { startTargets } from "./soak/targets.ts";
import { judgeRss, type RssSample } from "./soak/verdict.ts";
import {
  OPERATION_TIMEOUT_MS,
  OPERATIONS,
  pickOperation,
  Rng,
  type WorkContext,
} from "./soak/workloads.ts";

const HELP = `Usage: deno task soak [options]

  --duration T       How long to load the server (ms, s, m, h). Default 10m.
  --concurrency N    Workers running at once. Default 32.
  --report-every T   Interval between report rows. Default 30s.
  --seed N           Seed of the workload generator. Default: time-based.
  --server NAME      deno (deno run main.ts), bun (Bun on the source) or
                     exe (dist/socks5-deno from deno task build). Default deno.
  --help             This text.
`;

/** Largest share of operations that may fail unexpectedly. */
const MAX_ERROR_RATE = 0.001;
/** How long sessions may take to end once the load has stopped. */
const DRAIN_MS = 30_000;

interface Totals {
  ops: Record<string, number>;
  errors: Record<string, number>;
  errorSamples: string[];
  verified: number;
  mismatches: number;
  udpLost: number;
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: "string", default: "10m" },
      concurrency: { type: "string", default: "32" },
      "report-every": { type: "string", default: "30s" },
      seed: { type: "string" },
      server: { type: "string", default: "deno" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const durationMs = parseDuration(values.duration, "--duration");
  const concurrency = parseCount(
    values.concurrency,
    "--concurrency",
    Number.MAX_SAFE_INTEGER,
  );
  const reportMs = parseDuration(values["report-every"], "--report-every");
  const seed = values.seed === undefined
    ? Date.now() >>> 0
    : parseCount(values.seed, "--seed", Number.MAX_SAFE_INTEGER);

  const command = serverCommands().find((c) => c.name === values.server);
  if (!command || command.missing) {
    console.error(
      `soak: --server must be one of ${SERVER_NAMES.join(", ")}${
        command?.missing ? ` (${command.missing})` : ""
      }`,
    );
    return 2;
  }
  await using targets = startTargets();
  await using server = await SoakServer.start(command, [
    "--handshake-timeout",
    "5s",
    "--connect-timeout",
    "5s",
    "--bind-timeout",
    "10s",
    "--udp-timeout",
    "30s",
  ]);
  const context: WorkContext = {
    proxy: server.addr,
    echo: targets.echo,
    reset: targets.reset,
    udpEcho: targets.udpEcho,
  };
  console.log(
    `soak: ${durationMs / 1000}s, ${concurrency} workers, seed ${seed}, ` +
      `server ${command.name} pid ${server.pid} on ${server.addr.hostname}:${server.addr.port}`,
  );
  console.log(
    `operations: ${OPERATIONS.map((o) => `${o.name} ${o.weight}`).join(", ")}`,
  );

  const totals: Totals = {
    ops: Object.fromEntries(OPERATIONS.map((o) => [o.name, 0])),
    errors: Object.fromEntries(OPERATIONS.map((o) => [o.name, 0])),
    errorSamples: [],
    verified: 0,
    mismatches: 0,
    udpLost: 0,
  };
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const endAt = started + durationMs;
  const rss: RssSample[] = [];
  let serverDied = false;

  const header = [
    "t(s)".padStart(6),
    "ops".padStart(8),
    "connect".padStart(8),
    "udp".padStart(6),
    "bind".padStart(6),
    "faults".padStart(7),
    "MiB ok".padStart(9),
    "errors".padStart(7),
    "mismatch".padStart(9),
    "udp lost".padStart(9),
    "active".padStart(7),
    "sessions".padStart(9),
    "RSS MiB".padStart(8),
  ].join(" ");
  console.log(header);
  const row = async () => {
    const m = await server.metrics().catch(() => null);
    const kib = server.rssKib();
    const sum = (o: Record<string, number>) =>
      Object.values(o).reduce((a, b) => a + b, 0);
    const faults = OPERATIONS.filter((o) => o.fault)
      .reduce((a, o) => a + totals.ops[o.name]!, 0);
    console.log([
      elapsed().toFixed(0).padStart(6),
      String(sum(totals.ops)).padStart(8),
      String(totals.ops.connect).padStart(8),
      String(totals.ops.udp).padStart(6),
      String(totals.ops.bind).padStart(6),
      String(faults).padStart(7),
      (totals.verified / 1048576).toFixed(1).padStart(9),
      String(sum(totals.errors)).padStart(7),
      String(totals.mismatches).padStart(9),
      String(totals.udpLost).padStart(9),
      String(m?.sessionsActive ?? "?").padStart(7),
      String(m?.sessionsTotal ?? "?").padStart(9),
      (kib === undefined ? "?" : (kib / 1024).toFixed(1)).padStart(8),
    ].join(" "));
  };

  // RSS every second, a report row every interval; both stop with the load.
  const sampler = setInterval(() => {
    const kib = server.rssKib();
    if (kib !== undefined) rss.push({ t: elapsed(), kib });
    if (server.exited) serverDied = true;
  }, 1_000);
  const reporter = setInterval(() => void row(), reportMs);

  const worker = async (index: number) => {
    const rng = new Rng(seed + index * 7919);
    // Bounded in time (the duration) and in count.
    for (let i = 0; i < 10_000_000 && performance.now() < endAt; i++) {
      if (server.exited) return;
      const op = pickOperation(rng);
      totals.ops[op.name]!++;
      try {
        const outcome = await op.run(context, rng);
        totals.verified += outcome.verified;
        totals.mismatches += outcome.mismatches;
        totals.udpLost += outcome.udpLost;
      } catch (error) {
        totals.errors[op.name]!++;
        if (totals.errorSamples.length < 10) {
          totals.errorSamples.push(
            `${op.name}: ${
              error instanceof Error ? `${error.name}: ${error.message}` : error
            }`,
          );
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  clearInterval(reporter);
  clearInterval(sampler);
  await row();

  // The load has stopped: every session must end (the slowest, an
  // abandoned handshake, ends at the 5 s handshake deadline).
  let active = -1;
  const drainUntil = performance.now() + DRAIN_MS;
  for (let i = 0; i < DRAIN_MS / 250 && performance.now() < drainUntil; i++) {
    active = (await server.metrics().catch(() => null))?.sessionsActive ?? -1;
    if (active === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const serverErrors = server.logs.filter((l) => l.level === "error");
  const warnings = server.logs.filter((l) => l.level === "warn");
  serverDied ||= server.exited;
  const exitCode = await server.stop();

  const ops = Object.values(totals.ops).reduce((a, b) => a + b, 0);
  const errors = Object.values(totals.errors).reduce((a, b) => a + b, 0);
  const memory = judgeRss(rss);
  const checks: Array<[string, boolean, string]> = [
    [
      "payloads",
      totals.mismatches === 0,
      `${totals.mismatches} mismatched bytes or datagrams`,
    ],
    [
      "errors",
      errors <= ops * MAX_ERROR_RATE,
      `${errors} of ${ops} operations failed (limit ${MAX_ERROR_RATE * 100} %)`,
    ],
    [
      "server alive",
      !serverDied,
      serverDied ? "the server exited during the run" : "up to the end",
    ],
    [
      "server errors",
      serverErrors.length === 0,
      `${serverErrors.length} error lines, ${warnings.length} warnings`,
    ],
    [
      "sessions drained",
      active === 0,
      active === 0
        ? `all ended within ${DRAIN_MS / 1000}s of the load stopping`
        : `${active} still active ${DRAIN_MS / 1000}s after the load stopped`,
    ],
    ["clean exit", exitCode === 0, `exit code ${exitCode} on SIGTERM`],
    [
      "RSS plateau",
      memory.ok,
      `max ${memory.middleThirdMaxMib.toFixed(1)} MiB in the middle third, ` +
      `${memory.lastThirdMaxMib.toFixed(1)} MiB in the last (limit ${
        memory.limitMib.toFixed(1)
      }); ` +
      `slope ${memory.slopeMibPerMin.toFixed(2)} MiB/min`,
    ],
  ];
  console.log("");
  console.log(
    `operations: ${
      Object.entries(totals.ops).map(([k, v]) => `${k} ${v}`).join(", ")
    }`,
  );
  console.log(
    `errors: ${
      Object.entries(totals.errors).map(([k, v]) => `${k} ${v}`).join(", ")
    }`,
  );
  for (const sample of totals.errorSamples) console.log(`  ${sample}`);
  console.log(
    `verified ${(totals.verified / 1048576).toFixed(1)} MiB, ` +
      `${totals.udpLost} datagrams lost (UDP may drop; not a mismatch), ` +
      `operation bound ${OPERATION_TIMEOUT_MS / 1000}s`,
  );
  for (const l of [...serverErrors, ...warnings].slice(0, 5)) {
    console.log(`  server ${l.level}: ${JSON.stringify(l)}`);
  }
  for (const line of server.stderr.slice(0, 40)) {
    console.log(`  server stderr: ${line}`);
  }
  console.log("");
  for (const [name, ok, detail] of checks) {
    console.log(`${ok ? "PASS" : "FAIL"}  ${name.padEnd(17)} ${detail}`);
  }
  const passed = checks.every(([, ok]) => ok);
  console.log(passed ? "\nverdict: PASS" : "\nverdict: FAIL");
  return passed ? 0 : 1;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`soak: ${error instanceof Error ? error.message : error}`);
    Deno.exit(2);
  }
}
