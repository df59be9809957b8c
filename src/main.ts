/**
 * The program: the only module that touches the process (arguments, signals,
 * stderr, exit codes).
 *
 * @module
 */

import { HELP, parseCli, UsageError, VERSION } from "./cli.ts";
import { startCluster } from "./cluster.ts";
import { createBatchedWriter } from "./observability/batched_writer.ts";
import { createLogger } from "./observability/logger.ts";
import { MemoryMetrics } from "./observability/metrics.ts";
import {
  type PrometheusSource,
  serveMetrics,
} from "./observability/metrics_endpoint.ts";
import { formatHostPort } from "./protocol/address.ts";
import { serve, type ShutdownOptions } from "./server.ts";

/** How long log lines may wait in memory before they are written. */
const _LOG_FLUSH_MS = 50;

/**
 * Runs the proxy until SIGINT or SIGTERM, then shuts down gracefully.
 *
 * @param args Command-line arguments.
 * @returns The exit code: 0 after a clean shutdown, 1 when the server could
 * not start, 2 for a bad command line.
 */
export async function main(args: readonly string[]): Promise<number> {
  const encoder = new TextEncoder();
  const stderr = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  let config;
  try {
    config = await parseCli(args, (path) => Deno.readTextFile(path));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr(`socks5-deno: ${error.message} (see --help)\n`);
    return 2;
  }
  if (config.action === "help") {
    Deno.stdout.writeSync(encoder.encode(HELP));
    return 0;
  }
  if (config.action === "version") {
    Deno.stdout.writeSync(encoder.encode(`socks5-deno ${VERSION}\n`));
    return 0;
  }

  // Lines are batched so a busy server pays one write per interval rather
  // than one per session.
  const out = createBatchedWriter((text) => {
    try {
      stderr(text);
    } catch {
      // stderr is gone (closed pipe): nothing useful left to do with logs.
    }
  }, _LOG_FLUSH_MS);
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    write: out.write,
  });

  let running: {
    finished: Promise<void>;
    shutdown(options: ShutdownOptions): Promise<void>;
    metrics: PrometheusSource;
  };
  try {
    if (config.workers > 1) {
      const cluster = await startCluster({
        workers: config.workers,
        serve: config.serve,
        logLevel: config.logLevel,
        logFormat: config.logFormat,
        writeLog: (text) => {
          out.flush();
          stderr(text);
        },
      });
      logger.log("info", "workers started", { workers: config.workers });
      running = {
        finished: cluster.finished,
        shutdown: (options) => cluster.shutdown(options),
        metrics: cluster,
      };
    } else {
      const metrics = new MemoryMetrics();
      const server = serve({ ...config.serve, logger, metrics });
      running = {
        finished: server.finished,
        shutdown: (options) => server.shutdown(options),
        metrics,
      };
    }
  } catch (error) {
    logger.log("error", "cannot start", {
      error: error instanceof Error ? error.message : String(error),
    });
    out.flush();
    return 1;
  }
  let metricsServer: Deno.HttpServer<Deno.NetAddr> | undefined;
  if (config.metricsListen) {
    try {
      metricsServer = serveMetrics(running.metrics, config.metricsListen);
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
      return 1;
    }
  }
  out.flush();

  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const stop = () => {
    logger.log("info", "shutting down", { graceMs: config.graceMs });
    running.shutdown({ graceMs: config.graceMs });
  };
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  await running.finished;
  for (const signal of signals) Deno.removeSignalListener(signal, stop);
  await metricsServer?.shutdown();
  out.flush();
  return 0;
}
