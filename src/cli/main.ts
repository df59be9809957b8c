/**
 * The program: parses the command line, starts the server (or its workers)
 * and the metrics endpoint, and runs until SIGINT or SIGTERM. It reaches the
 * process only through the runtime's {@linkcode ProcessHost}.
 *
 * @module
 */

import type { AdminSource } from "../admin/admin_handler.ts";
import { type AdminServer, serveAdmin } from "../admin/serve_admin.ts";
import { startCluster } from "../cluster/cluster.ts";
import { parseCli, VERSION } from "../config/cli.ts";
import { runProbe } from "./probe.ts";
import { helpText } from "../config/help.ts";
import { UsageError } from "../config/values.ts";
import { serveWith, type ShutdownOptions } from "../core/server.ts";
import { createBatchedWriter } from "../observability/batched_writer.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import { createConfigStatus } from "../observability/config_status.ts";
import { MemoryMetrics } from "../observability/metrics.ts";
import { formatHostPort } from "../protocol/address.ts";
import type {
  AppendFile,
  ProcessHost,
  ProcessSignal,
  Runtime,
} from "../runtime/runtime.ts";

/** How long log lines may wait in memory before they are written. */
const _LOG_FLUSH_MS = 50;

interface _Running {
  finished: Promise<void>;
  shutdown(options: ShutdownOptions): Promise<void>;
  source: Omit<AdminSource, "draining">;
}

/** The access log's file, reopened on SIGUSR1 (logrotate moved it). */
interface _AccessLog {
  logger: Logger;
  write: (text: string) => void;
  flush(): void;
  reopen(): void;
  close(): void;
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
  let access: _AccessLog | null = null;
  if (config.accessLog !== null) {
    try {
      access = _openAccessLog(config.accessLog, config, host);
    } catch (error) {
      host.writeStderr(
        `socks5-deno: cannot open access log ${
          JSON.stringify(config.accessLog)
        }: ${error instanceof Error ? error.message : error}\n`,
      );
      return 1;
    }
  }
  const configStatus = createConfigStatus();

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
  const removers = _handleSignals(host, logger, stop, access);
  const fail = () => {
    out.flush();
    access?.close();
    for (const remove of removers) remove();
    return 1;
  };
  try {
    running = await _start(config, runtime, logger, out.flush, host, access);
  } catch (error) {
    logger.log("error", "cannot start", {
      error: error instanceof Error ? error.message : String(error),
    });
    return fail();
  }
  const admins: AdminServer[] = [];
  const source: AdminSource = { ...running.source, draining: () => stopping };
  for (
    const [listen, event, path] of [
      [config.adminListen, "admin listening", "/"],
      [config.metricsListen, "metrics listening", "/metrics"],
    ] as const
  ) {
    if (listen === null) continue;
    try {
      const admin = await serveAdmin(runtime, listen, {
        source,
        build: {
          version: VERSION,
          runtime: runtime.name,
          runtimeVersion: runtime.version,
        },
        config: configStatus,
        processStats: () => host.stats(),
        token: config.adminToken,
        logger,
      });
      admins.push(admin);
      const { hostname, port } = admin.addr;
      logger.log("info", event, {
        url: `http://${formatHostPort(hostname, port)}${path}`,
        auth: config.adminToken === null ? "none" : "token",
      });
    } catch (error) {
      logger.log("error", "cannot serve the admin listener", {
        error: error instanceof Error ? error.message : String(error),
      });
      for (const admin of admins) await admin.shutdown();
      await running.shutdown({ graceMs: 0 });
      return fail();
    }
  }
  out.flush();
  if (stopping) running.shutdown({ graceMs: config.graceMs });
  // The handlers stay until the process exits: a signal in the last
  // moments must not take the default action (death by signal, exit 143).
  await running.finished;
  for (const admin of admins) await admin.shutdown();
  out.flush();
  access?.close();
  return 0;
}

/** Opens the access log file behind a batched writer. */
function _openAccessLog(
  path: string,
  config: Awaited<ReturnType<typeof parseCli>>,
  host: ProcessHost,
): _AccessLog {
  let file: AppendFile = host.openAppendFile(path);
  const out = createBatchedWriter((text) => file.write(text), _LOG_FLUSH_MS);
  return {
    logger: createLogger({
      level: config.logLevel,
      format: config.logFormat,
      write: out.write,
    }),
    write: (text) => {
      out.flush();
      file.write(text);
    },
    flush: out.flush,
    reopen() {
      // Lines written so far belong to the old (rotated) file.
      out.flush();
      const next = host.openAppendFile(path);
      file.close();
      file = next;
    },
    close() {
      out.flush();
      file.close();
    },
  };
}

async function _start(
  config: Awaited<ReturnType<typeof parseCli>>,
  runtime: Runtime,
  logger: Logger,
  flush: () => void,
  host: ProcessHost,
  access: _AccessLog | null,
): Promise<_Running> {
  if (config.workers > 1) {
    const cluster = await startCluster({
      runtime,
      workers: config.workers,
      serve: config.serve,
      logLevel: config.logLevel,
      logFormat: config.logFormat,
      maxUserLabels: config.metricsUserLabels,
      writeLog: (text) => {
        flush();
        host.writeStderr(text);
      },
      ...(access ? { writeAccessLog: access.write } : {}),
    });
    logger.log("info", "workers started", { workers: config.workers });
    return {
      finished: cluster.finished,
      shutdown: (options) => cluster.shutdown(options),
      source: cluster,
    };
  }
  const metrics = new MemoryMetrics({
    maxUserLabels: config.metricsUserLabels,
  });
  const server = await serveWith(runtime, {
    ...config.serve,
    logger,
    metrics,
    accessLog: access?.logger ?? logger,
  });
  return {
    finished: server.finished,
    shutdown: (options) => server.shutdown(options),
    source: {
      dump: () => metrics.dump(server.trafficInFlight()),
      sessions: () => server.sessions(),
    },
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
  access: _AccessLog | null,
): Array<() => void> {
  const removers: Array<() => void> = [];
  for (const signal of ["SIGINT", "SIGTERM"] as ProcessSignal[]) {
    removers.push(host.onSignal(signal, stop));
  }
  if (access) {
    removers.push(host.onSignal("SIGUSR1", () => {
      try {
        access.reopen();
        logger.log("info", "access log reopened");
      } catch (error) {
        // Keep writing to the old file rather than losing lines.
        logger.log("error", "cannot reopen the access log", {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }));
  }
  for (
    const signal
      of (access ? ["SIGHUP"] : ["SIGHUP", "SIGUSR1"]) as ProcessSignal[]
  ) {
    removers.push(host.onSignal(signal, () => {
      logger.log("info", "signal ignored", {
        signal,
        reason: "nothing to reload or reopen: no config file, logs on stderr",
      });
    }));
  }
  return removers;
}
