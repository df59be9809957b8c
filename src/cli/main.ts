/**
 * The program: parses the command line, starts the server (or its workers)
 * and the metrics endpoint, and runs until SIGINT or SIGTERM. It reaches the
 * process only through the runtime's {@linkcode ProcessHost}.
 *
 * @module
 */

import { startCluster } from "../cluster/cluster.ts";
import { parseCli, VERSION } from "../config/cli.ts";
import { ConfigState } from "../config/config_state.ts";
import type { CliConfig } from "../config/options.ts";
import { runProbe } from "./probe.ts";
import { helpText } from "../config/help.ts";
import { UsageError } from "../config/values.ts";
import { serveWith, type ShutdownOptions } from "../core/server.ts";
import { runCheck } from "./check.ts";
import { runExplain } from "./explain.ts";
import { runPasswd } from "./passwd.ts";
import { createReloader } from "./reload.ts";
import { createBatchedWriter } from "../observability/batched_writer.ts";
import {
  createLogger,
  type Logger,
  type LogLevel,
} from "../observability/logger.ts";
import { MemoryMetrics } from "../observability/metrics.ts";
import {
  metricsHandler,
  type PrometheusSource,
} from "../observability/metrics_endpoint.ts";
import { formatHostPort } from "../protocol/address.ts";
import type {
  HttpServerHandle,
  ProcessHost,
  ProcessSignal,
  Runtime,
} from "../runtime/runtime.ts";

/** How long log lines may wait in memory before they are written. */
const _LOG_FLUSH_MS = 50;

interface _Running {
  finished: Promise<void>;
  shutdown(options: ShutdownOptions): Promise<void>;
  reload(config: CliConfig): Promise<void>;
  metrics: PrometheusSource;
}

/** A logger whose level and format a reload can change. */
interface _SwitchableLogger extends Logger {
  set(level: LogLevel, format: "text" | "json"): void;
}

/**
 * Runs the proxy until SIGINT or SIGTERM, then shuts down gracefully.
 *
 * @param args Command-line arguments.
 * @param runtime The runtime to run on.
 * @param host The process.
 * @returns The exit code: 0 after a clean shutdown, 1 when the server could
 * not start, 2 for a bad command line.
 */
export async function main(
  args: readonly string[],
  runtime: Runtime,
  host: ProcessHost,
): Promise<number> {
  if (args[0] === "check") return await runCheck(args.slice(1), host);
  if (args[0] === "explain") return await runExplain(args.slice(1), host);
  if (args[0] === "passwd") return await runPasswd(args.slice(1), host);
  if (args[0] === "probe") return runProbe(args.slice(1), runtime, host);
  let config: CliConfig;
  try {
    config = await parseCli(args, (path) => host.readTextFile(path));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    for (const line of error.message.split("\n")) {
      host.writeStderr(`socks5-deno: ${line} (see --help)\n`);
    }
    return 2;
  }
  if (config.action === "help") {
    host.writeStdout(helpText(host.programName));
    return 0;
  }
  if (config.action === "version") {
    host.writeStdout(
      `socks5-deno ${VERSION} (${runtime.name} ${runtime.version})\n`,
    );
    return 0;
  }
  return await _serve(args, config, runtime, host);
}

/** What the signal handlers of a serving program share. */
interface _Program {
  /** The configuration in force. */
  config: CliConfig;
  /** The server or cluster, once started. */
  running?: _Running;
  /** Whether a shutdown has begun. */
  stopping: boolean;
  /** Resolves once started (`null` when the start failed). */
  startup: Promise<_Running | null>;
  /** The configuration's generation and load time (for the status page). */
  state: ConfigState;
}

/** Serves until SIGINT/SIGTERM; SIGHUP reloads. */
async function _serve(
  args: readonly string[],
  config: CliConfig,
  runtime: Runtime,
  host: ProcessHost,
): Promise<number> {
  // Lines are batched so a busy server pays one write per interval rather
  // than one per session.
  const out = createBatchedWriter(
    (text) => host.writeStderr(text),
    _LOG_FLUSH_MS,
  );
  const logger = _switchableLogger(config, out.write);
  let started!: (running: _Running | null) => void;
  const program: _Program = {
    config,
    stopping: false,
    startup: new Promise((resolve) => started = resolve),
    state: new ConfigState(),
  };
  // Signals first: a SIGTERM that arrives while the listeners are opening
  // must stop the server, not kill the process; a SIGHUP then waits.
  const reload = _reloader(args, host, logger, program);
  const removers = _handleSignals(
    host,
    logger,
    () => _stop(program, logger),
    () => {
      reload().then(out.flush);
    },
  );
  const done = (code: number) => {
    out.flush();
    for (const remove of removers) remove();
    return code;
  };
  for (const warning of config.warnings) logger.log("warn", warning);
  let running: _Running;
  try {
    running = await _start(config, runtime, logger, out.flush, host);
  } catch (error) {
    logger.log("error", "cannot start", { error: _message(error) });
    started(null);
    return done(1);
  }
  program.running = running;
  started(running);
  let metricsServer: HttpServerHandle | undefined;
  if (config.metricsListen) {
    try {
      metricsServer = await _serveMetrics(config, runtime, running, logger);
    } catch (error) {
      logger.log("error", "cannot serve metrics", { error: _message(error) });
      await running.shutdown({ graceMs: 0 });
      return done(1);
    }
  }
  out.flush();
  if (program.stopping) running.shutdown({ graceMs: program.config.graceMs });
  // The handlers stay until the process exits: a signal in the last
  // moments must not take the default action (death by signal, exit 143).
  await running.finished;
  await metricsServer?.shutdown();
  out.flush();
  return 0;
}

/** SIGINT/SIGTERM: drain; a second one while draining means "now". */
function _stop(program: _Program, logger: Logger): void {
  const graceMs = program.stopping ? 0 : program.config.graceMs;
  program.stopping = true;
  logger.log("info", "shutting down", { graceMs });
  program.running?.shutdown({ graceMs });
}

/** SIGHUP: parse the command line again (reading every file) and swap. */
function _reloader(
  args: readonly string[],
  host: ProcessHost,
  logger: _SwitchableLogger,
  program: _Program,
): () => Promise<void> {
  return createReloader({
    load: () => parseCli(args, (path) => host.readTextFile(path)),
    setLog: (level, format) => logger.set(level, format),
    apply: async (next) => {
      const running = await program.startup;
      if (!running) throw new Error("The server did not start");
      if (next.workers !== program.config.workers) {
        throw new Error("--workers cannot change on reload: restart instead");
      }
      await running.reload(next);
      program.config = next;
    },
    logger,
    state: program.state,
  });
}

async function _serveMetrics(
  config: CliConfig,
  runtime: Runtime,
  running: _Running,
  logger: Logger,
): Promise<HttpServerHandle> {
  const server = await runtime.serveHttp(
    config.metricsListen!,
    metricsHandler(running.metrics),
  );
  const { hostname, port } = server.addr;
  logger.log("info", "metrics listening", {
    url: `http://${formatHostPort(hostname, port)}/metrics`,
  });
  return server;
}

function _switchableLogger(
  config: CliConfig,
  write: (line: string) => void,
): _SwitchableLogger {
  let current = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    write,
  });
  return {
    enabled: (level) => current.enabled(level),
    log: (level, message, fields) => current.log(level, message, fields),
    set(level, format) {
      current = createLogger({ level, format, write });
    },
  };
}

function _message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function _start(
  config: CliConfig,
  runtime: Runtime,
  logger: Logger,
  flush: () => void,
  host: ProcessHost,
): Promise<_Running> {
  if (config.workers > 1) {
    const cluster = await startCluster({
      runtime,
      workers: config.workers,
      serve: config.serve,
      logLevel: config.logLevel,
      logFormat: config.logFormat,
      writeLog: (text) => {
        flush();
        host.writeStderr(text);
      },
    });
    logger.log("info", "workers started", { workers: config.workers });
    return {
      finished: cluster.finished,
      shutdown: (options) => cluster.shutdown(options),
      reload: (next) =>
        cluster.reload(next.serve, next.logLevel, next.logFormat),
      metrics: cluster,
    };
  }
  const metrics = new MemoryMetrics();
  const server = await serveWith(runtime, { ...config.serve, logger, metrics });
  return {
    finished: server.finished,
    shutdown: (options) => server.shutdown(options),
    reload: (next) => server.reload({ ...next.serve, logger, metrics }),
    metrics,
  };
}

/**
 * SIGINT and SIGTERM start the graceful shutdown; SIGHUP reloads. SIGHUP
 * and SIGUSR1, which `systemctl reload` and logrotate send, must never end
 * the process: their default action would.
 */
function _handleSignals(
  host: ProcessHost,
  logger: Logger,
  stop: () => void,
  reload: () => void,
): Array<() => void> {
  const removers: Array<() => void> = [];
  for (const signal of ["SIGINT", "SIGTERM"] as ProcessSignal[]) {
    removers.push(host.onSignal(signal, stop));
  }
  removers.push(host.onSignal("SIGHUP", reload));
  removers.push(host.onSignal("SIGUSR1", () => {
    logger.log("info", "signal ignored", {
      signal: "SIGUSR1",
      reason: "nothing to reopen: logs go to stderr",
    });
  }));
  return removers;
}
