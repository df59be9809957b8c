/**
 * The program: parses the command line, starts the server (or its workers)
 * and the metrics endpoint, and runs until SIGINT or SIGTERM. It reaches the
 * process only through the runtime's {@linkcode ProcessHost}.
 *
 * @module
 */

import { startCluster } from "../cluster/cluster.ts";
import { parseCli, VERSION } from "../config/cli.ts";
import { runProbe } from "./probe.ts";
import { helpText } from "../config/help.ts";
import { UsageError } from "../config/values.ts";
import { serveWith, type ShutdownOptions } from "../core/server.ts";
import { createBatchedWriter } from "../observability/batched_writer.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
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
  metrics: PrometheusSource;
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
  if (args[0] === "probe") return runProbe(args.slice(1), runtime, host);
  let config;
  try {
    config = await parseCli(args, (path) => host.readTextFile(path));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    host.writeStderr(`socks5-deno: ${error.message} (see --help)\n`);
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

  // Lines are batched so a busy server pays one write per interval rather
  // than one per session.
  const out = createBatchedWriter(
    (text) => host.writeStderr(text),
    _LOG_FLUSH_MS,
  );
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    write: out.write,
  });

  // Signals first: a SIGTERM that arrives while the listeners are opening
  // must stop the server, not kill the process.
  let running: _Running | undefined;
  let stopping = false;
  const stop = () => {
    // A second signal while draining means "now": sessions are closed.
    const graceMs = stopping ? 0 : config.graceMs;
    stopping = true;
    logger.log("info", "shutting down", { graceMs });
    running?.shutdown({ graceMs });
  };
  const removers = _handleSignals(host, logger, stop);
  try {
    running = await _start(config, runtime, logger, out.flush, host);
  } catch (error) {
    logger.log("error", "cannot start", {
      error: error instanceof Error ? error.message : String(error),
    });
    out.flush();
    for (const remove of removers) remove();
    return 1;
  }
  let metricsServer: HttpServerHandle | undefined;
  if (config.metricsListen) {
    try {
      metricsServer = await runtime.serveHttp(
        config.metricsListen,
        metricsHandler(running.metrics),
      );
      const { hostname, port } = metricsServer.addr;
      logger.log("info", "metrics listening", {
        url: `http://${formatHostPort(hostname, port)}/metrics`,
      });
    } catch (error) {
      logger.log("error", "cannot serve metrics", {
        error: error instanceof Error ? error.message : String(error),
      });
      await running.shutdown({ graceMs: 0 });
      out.flush();
      for (const remove of removers) remove();
      return 1;
    }
  }
  out.flush();
  if (stopping) running.shutdown({ graceMs: config.graceMs });
  // The handlers stay until the process exits: a signal in the last
  // moments must not take the default action (death by signal, exit 143).
  await running.finished;
  await metricsServer?.shutdown();
  out.flush();
  return 0;
}

async function _start(
  config: Awaited<ReturnType<typeof parseCli>>,
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
      metrics: cluster,
    };
  }
  const metrics = new MemoryMetrics();
  const server = await serveWith(runtime, { ...config.serve, logger, metrics });
  return {
    finished: server.finished,
    shutdown: (options) => server.shutdown(options),
    metrics,
  };
}

/**
 * SIGINT and SIGTERM start the graceful shutdown. SIGHUP and SIGUSR1, which
 * `systemctl reload` and logrotate send, must never end the process: their
 * default action would.
 */
function _handleSignals(
  host: ProcessHost,
  logger: Logger,
  stop: () => void,
): Array<() => void> {
  const removers: Array<() => void> = [];
  for (const signal of ["SIGINT", "SIGTERM"] as ProcessSignal[]) {
    removers.push(host.onSignal(signal, stop));
  }
  for (const signal of ["SIGHUP", "SIGUSR1"] as ProcessSignal[]) {
    removers.push(host.onSignal(signal, () => {
      logger.log("info", "signal ignored", {
        signal,
        reason: "nothing to reload or reopen: no config file, logs on stderr",
      });
    }));
  }
  return removers;
}
