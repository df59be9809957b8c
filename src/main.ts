/**
 * The program: the only module that touches the process (arguments, signals,
 * stderr, exit codes).
 *
 * @module
 */

import { HELP, parseCli, UsageError, VERSION } from "./cli.ts";
import { createLogger } from "./observability/logger.ts";
import { MemoryMetrics } from "./observability/metrics.ts";
import { serveMetrics } from "./observability/metrics_endpoint.ts";
import { serve } from "./server.ts";

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
  let pending = "";
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (pending === "") return;
    const text = pending;
    pending = "";
    try {
      stderr(text);
    } catch {
      // stderr is gone (closed pipe): nothing useful left to do with logs.
    }
  };
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    write: (line) => {
      pending += line + "\n";
      if (pending.length > 64 * 1024) flush();
      else flushTimer ??= setTimeout(flush, _LOG_FLUSH_MS);
    },
  });

  const metrics = new MemoryMetrics();
  let server;
  try {
    server = serve({ ...config.serve, logger, metrics });
  } catch (error) {
    logger.log("error", "cannot start", {
      error: error instanceof Error ? error.message : String(error),
    });
    flush();
    return 1;
  }
  let metricsServer: Deno.HttpServer<Deno.NetAddr> | undefined;
  if (config.metricsListen) {
    try {
      metricsServer = serveMetrics(metrics, config.metricsListen);
      const { hostname, port } = metricsServer.addr as Deno.NetAddr;
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      logger.log("info", "metrics listening", {
        url: `http://${host}:${port}/metrics`,
      });
    } catch (error) {
      logger.log("error", "cannot serve metrics", {
        error: error instanceof Error ? error.message : String(error),
      });
      await server.shutdown({ graceMs: 0 });
      flush();
      return 1;
    }
  }
  flush();

  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const stop = () => {
    logger.log("info", "shutting down", { graceMs: config.graceMs });
    server.shutdown({ graceMs: config.graceMs });
  };
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  await server.finished;
  for (const signal of signals) Deno.removeSignalListener(signal, stop);
  await metricsServer?.shutdown();
  flush();
  return 0;
}
