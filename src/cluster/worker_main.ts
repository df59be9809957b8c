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
import { MemoryMetrics } from "../observability/metrics.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { NetAddress } from "../runtime/transport.ts";

/** Messages the main thread sends a worker. */
export type ToWorker =
  | {
    type: "start";
    options: ServeOptions;
    logLevel: LogLevel;
    logFormat: "text" | "json";
  }
  | {
    type: "reload";
    options: ServeOptions;
    logLevel: LogLevel;
    logFormat: "text" | "json";
  }
  | { type: "shutdown"; graceMs: number }
  | { type: "metrics"; id: number };

/** Messages a worker sends the main thread. */
export type FromWorker =
  | { type: "listening"; addrs: NetAddress[] }
  | { type: "failed"; message: string }
  | { type: "log"; text: string }
  | {
    type: "metrics";
    id: number;
    entries: ReturnType<MemoryMetrics["entries"]>;
  }
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
  const metrics = new MemoryMetrics();
  let server: Socks5Server | undefined;
  port.onmessage = async (event: MessageEvent<ToWorker>) => {
    const message = event.data;
    if (message.type === "start") {
      try {
        server = await serveWith(runtime, {
          ...message.options,
          reusePort: true,
          metrics,
          logger: createLogger({
            level: message.logLevel,
            format: message.logFormat,
            write: logs.write,
          }),
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
        await server.reload({
          ...message.options,
          reusePort: true,
          metrics,
          logger: createLogger({
            level: message.logLevel,
            format: message.logFormat,
            write: logs.write,
          }),
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
      post({ type: "stopped" });
    } else if (message.type === "metrics") {
      post({ type: "metrics", id: message.id, entries: metrics.entries() });
    }
  };
}

function _plain(addrs: readonly NetAddress[]): NetAddress[] {
  return addrs.map((a) => ({ hostname: a.hostname, port: a.port }));
}
