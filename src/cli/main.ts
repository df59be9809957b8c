/**
 * The program: parses the command line, starts the server (or its workers)
 * and the admin endpoints, and runs until SIGINT or SIGTERM; SIGHUP
 * reloads, SIGUSR1 reopens the access log. Subcommands (`check`, `explain`,
 * `passwd`, `probe`) live in their own files. It reaches the process only
 * through the runtime's {@linkcode ProcessHost}.
 *
 * @module
 */

import type { AdminSource } from "../admin/admin_handler.ts";
import { type AdminServer, serveAdmin } from "../admin/serve_admin.ts";
import { startCluster } from "../cluster/cluster.ts";
import { parseCli, VERSION } from "../config/cli.ts";
import type { CliConfig } from "../config/options.ts";
import { helpText } from "../config/help.ts";
import { UsageError } from "../config/values.ts";
import { serveWith, type ShutdownOptions } from "../core/server.ts";
import { createBatchedWriter } from "../observability/batched_writer.ts";
import {
  createLogger,
  type Logger,
  type LogLevel,
} from "../observability/logger.ts";
import {
  type ConfigStatus,
  createConfigStatus,
} from "../observability/config_status.ts";
import { MemoryMetrics } from "../observability/metrics.ts";
import { formatHostPort } from "../protocol/address.ts";
import type {
  AppendFile,
  ProcessHost,
  ProcessSignal,
  Runtime,
} from "../runtime/runtime.ts";
import { runCheck } from "./check.ts";
import { runExplain } from "./explain.ts";
import { runPasswd } from "./passwd.ts";
import { runProbe } from "./probe.ts";
import { createReloader } from "./reload.ts";

/** How long log lines may wait in memory before they are written. */
const _LOG_FLUSH_MS = 50;

interface _Running {
  finished: Promise<void>;
  shutdown(options: ShutdownOptions): Promise<void>;
  reload(config: CliConfig): Promise<void>;
  source: Omit<AdminSource, "draining">;
}

/** A logger whose level and format a reload can change. */
interface _SwitchableLogger extends Logger {
  set(level: LogLevel, format: "text" | "json"): void;
}

/** The access log's file, reopened on SIGUSR1 (logrotate moved it). */
interface _AccessLog {
  logger: _SwitchableLogger;
  write: (text: string) => void;
  flush(): void;
  reopen(): void;
  close(): void;
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
  /** The configuration's generation and load time (status page, metrics). */
  status: ConfigStatus;
}

/**
 * Runs the proxy until SIGINT or SIGTERM, then shuts down gracefully; or
 * runs a subcommand.
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
  let access: _AccessLog | null = null;
  if (config.accessLog !== null) {
    try {
      access = _openAccessLog(config.accessLog, config, host);
    } catch (error) {
      host.writeStderr(
        `socks5-deno: cannot open access log ${
          JSON.stringify(config.accessLog)
        }: ${_message(error)}\n`,
      );
      return 1;
    }
  }
  let started!: (running: _Running | null) => void;
  const program: _Program = {
    config,
    stopping: false,
    startup: new Promise((resolve) => started = resolve),
    status: createConfigStatus(),
  };
  // Signals first: a SIGTERM that arrives while the listeners are opening
  // must stop the server, not kill the process; a SIGHUP then waits.
  const reload = _reloader(args, host, logger, access, program);
  const removers = _handleSignals(host, logger, access, {
    stop: () => _stop(program, logger),
    reload: () => reload().then(out.flush),
  });
  const fail = () => {
    out.flush();
    access?.close();
    for (const remove of removers) remove();
    return 1;
  };
  for (const warning of config.warnings) logger.log("warn", warning);
  let running: _Running;
  try {
    running = await _start(config, runtime, logger, out.flush, host, access);
  } catch (error) {
    logger.log("error", "cannot start", { error: _message(error) });
    started(null);
    return fail();
  }
  program.running = running;
  started(running);
  const admins = await _serveAdmins(program, runtime, host, logger);
  if (admins === null) {
    await running.shutdown({ graceMs: 0 });
    return fail();
  }
  out.flush();
  if (program.stopping) running.shutdown({ graceMs: program.config.graceMs });
  // The handlers stay until the process exits: a signal in the last
  // moments must not take the default action (death by signal, exit 143).
  await running.finished;
  for (const admin of admins) await admin.shutdown();
  out.flush();
  access?.close();
  return 0;
}

/** The admin and metrics listeners; `null` (all closed) when one fails. */
async function _serveAdmins(
  program: _Program,
  runtime: Runtime,
  host: ProcessHost,
  logger: Logger,
): Promise<AdminServer[] | null> {
  const { config } = program;
  const admins: AdminServer[] = [];
  const source: AdminSource = {
    ...program.running!.source,
    draining: () => program.stopping,
  };
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
        config: program.status,
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
        error: _message(error),
      });
      for (const admin of admins) await admin.shutdown();
      return null;
    }
  }
  return admins;
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
  access: _AccessLog | null,
  program: _Program,
): () => Promise<void> {
  return createReloader({
    load: () => parseCli(args, (path) => host.readTextFile(path)),
    setLog: (level, format) => {
      logger.set(level, format);
      access?.logger.set(level, format);
    },
    apply: async (next) => {
      const running = await program.startup;
      if (!running) throw new Error("The server did not start");
      for (
        const [key, flag] of [
          ["workers", "--workers"],
          ["accessLog", "--access-log"],
          ["metricsListen", "--metrics"],
          ["adminListen", "--admin"],
        ] as const
      ) {
        if (JSON.stringify(next[key]) !== JSON.stringify(program.config[key])) {
          throw new Error(`${flag} cannot change on reload: restart instead`);
        }
      }
      await running.reload(next);
      program.config = next;
    },
    logger,
    status: program.status,
  });
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

/** Opens the access log file behind a batched writer. */
function _openAccessLog(
  path: string,
  config: CliConfig,
  host: ProcessHost,
): _AccessLog {
  let file: AppendFile = host.openAppendFile(path);
  const out = createBatchedWriter((text) => file.write(text), _LOG_FLUSH_MS);
  return {
    logger: _switchableLogger(config, out.write),
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
  config: CliConfig,
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
      reload: (next) =>
        cluster.reload(next.serve, next.logLevel, next.logFormat),
      source: cluster,
    };
  }
  const metrics = new MemoryMetrics({
    maxUserLabels: config.metricsUserLabels,
  });
  const hooks = { logger, metrics, accessLog: access?.logger ?? logger };
  const server = await serveWith(runtime, { ...config.serve, ...hooks });
  return {
    finished: server.finished,
    shutdown: (options) => server.shutdown(options),
    reload: (next) => server.reload({ ...next.serve, ...hooks }),
    source: {
      dump: () => metrics.dump(server.trafficInFlight()),
      sessions: () => server.sessions(),
    },
  };
}

/**
 * SIGINT and SIGTERM start the graceful shutdown; SIGHUP reloads; SIGUSR1
 * reopens the access log file. SIGHUP and SIGUSR1, which `systemctl
 * reload` and logrotate send, must never end the process: their default
 * action would.
 */
function _handleSignals(
  host: ProcessHost,
  logger: Logger,
  access: _AccessLog | null,
  on: { stop: () => void; reload: () => void },
): Array<() => void> {
  const removers: Array<() => void> = [];
  for (const signal of ["SIGINT", "SIGTERM"] as ProcessSignal[]) {
    removers.push(host.onSignal(signal, on.stop));
  }
  removers.push(host.onSignal("SIGHUP", on.reload));
  removers.push(host.onSignal("SIGUSR1", () => {
    if (!access) {
      logger.log("info", "signal ignored", {
        signal: "SIGUSR1",
        reason: "nothing to reopen: logs go to stderr",
      });
      return;
    }
    try {
      access.reopen();
      logger.log("info", "access log reopened");
    } catch (error) {
      // Keep writing to the old file rather than losing lines.
      logger.log("error", "cannot reopen the access log", {
        error: _message(error),
      });
    }
  }));
  return removers;
}
