/**
 * One worker of `--workers N`: a whole server in a Web Worker, sharing the
 * listening port with its siblings through SO_REUSEPORT. It talks to the
 * main thread only through messages (see `cluster.ts`). Each runtime's
 * worker entry calls {@linkcode runWorker} with itself.
 *
 * @module
 */

import {
  type ServeOptions,
  serveWith,
  type Socks5Server,
} from "../core/server.ts";
import { createBatchedWriter } from "../observability/batched_writer.ts";
import { createLogger, type LogLevel } from "../observability/logger.ts";
import { MemoryMetrics, type MetricsDump } from "../observability/metrics.ts";
import type { SessionInfo } from "../core/session_info.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { NetAddress } from "../runtime/transport.ts";

/** Messages the main thread sends a worker. */
export type ToWorker =
  | {
    type: "start";
    options: ServeOptions;
    logLevel: LogLevel;
    logFormat: "text" | "json";
    /** Distinct users with their own metrics label. */
    maxUserLabels?: number;
    /** Send access-log lines apart (`access` messages), for a log file. */
    accessLogApart?: boolean;
  }
  | {
    type: "reload";
    options: ServeOptions;
    logLevel: LogLevel;
    logFormat: "text" | "json";
  }
  | { type: "shutdown"; graceMs: number }
  | { type: "metrics"; id: number }
  | { type: "sessions"; id: number };

/** Messages a worker sends the main thread. */
export type FromWorker =
  | { type: "listening"; addrs: NetAddress[] }
  | { type: "failed"; message: string }
  | { type: "log"; text: string }
  | { type: "access"; text: string }
  | { type: "metrics"; id: number; dump: MetricsDump }
  | { type: "sessions"; id: number; sessions: SessionInfo[] }
  | { type: "reloaded"; addrs: NetAddress[] }
  | { type: "reload-failed"; message: string }
  | { type: "stopped" };

/** The worker's end of the message channel (`self` inside a worker). */
export interface WorkerPort {
  /** Sends a message to the main thread. */
  postMessage(message: FromWorker): void;
  /** Receives the main thread's messages. */
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}

/**
 * Serves the main thread's requests: start a server, report metrics, shut
 * down.
 *
 * @param runtime The runtime the worker runs on.
 * @param port The worker's global scope.
 */
export function runWorker(runtime: Runtime, port: WorkerPort): void {
  const post = (message: FromWorker) => port.postMessage(message);
  const logs = createBatchedWriter((text) => post({ type: "log", text }), 50);
  const access = createBatchedWriter(
    (text) => post({ type: "access", text }),
    50,
  );
  let metrics = new MemoryMetrics();
  let server: Socks5Server | undefined;
  let accessLogApart = false;
  port.onmessage = async (event: MessageEvent<ToWorker>) => {
    const message = event.data;
    if (message.type === "start") {
      try {
        metrics = new MemoryMetrics({ maxUserLabels: message.maxUserLabels });
        accessLogApart = message.accessLogApart ?? false;
        const logger = createLogger({
          level: message.logLevel,
          format: message.logFormat,
          write: logs.write,
        });
        server = await serveWith(runtime, {
          ...message.options,
          reusePort: true,
          metrics,
          logger,
          accessLog: message.accessLogApart
            ? createLogger({
              level: message.logLevel,
              format: message.logFormat,
              write: access.write,
            })
            : logger,
        });
        logs.flush();
        post({ type: "listening", addrs: _plain(server.addrs) });
      } catch (error) {
        post({
          type: "failed",
          message: error instanceof Error ? error.message : String(error),
        });
      }
    } else if (message.type === "reload") {
      try {
        if (!server) throw new Error("The worker has no server");
        const logger = createLogger({
          level: message.logLevel,
          format: message.logFormat,
          write: logs.write,
        });
        await server.reload({
          ...message.options,
          reusePort: true,
          metrics,
          logger,
          accessLog: accessLogApart
            ? createLogger({
              level: message.logLevel,
              format: message.logFormat,
              write: access.write,
            })
            : logger,
        });
        post({ type: "reloaded", addrs: _plain(server.addrs) });
      } catch (error) {
        post({
          type: "reload-failed",
          message: error instanceof Error ? error.message : String(error),
        });
      }
    } else if (message.type === "shutdown") {
      await server?.shutdown({ graceMs: message.graceMs });
      logs.flush();
      access.flush();
      post({ type: "stopped" });
    } else if (message.type === "metrics") {
      post({
        type: "metrics",
        id: message.id,
        dump: metrics.dump(server?.trafficInFlight()),
      });
    } else if (message.type === "sessions") {
      post({
        type: "sessions",
        id: message.id,
        sessions: server?.sessions() ?? [],
      });
    }
  };
}

function _plain(addrs: readonly NetAddress[]): NetAddress[] {
  return addrs.map((a) => ({ hostname: a.hostname, port: a.port }));
}
