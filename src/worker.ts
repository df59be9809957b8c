/**
 * The entry point of one worker of `--workers N`: a whole server in a Web
 * Worker, sharing the listening port with its siblings through
 * SO_REUSEPORT. It talks to the main thread only through messages (see
 * `src/cluster.ts`).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { createBatchedWriter } from "./observability/batched_writer.ts";
import { createLogger, type LogLevel } from "./observability/logger.ts";
import { MemoryMetrics } from "./observability/metrics.ts";
import { serve, type ServeOptions, type Socks5Server } from "./server.ts";

/** Messages the main thread sends a worker. */
export type ToWorker =
  | {
    type: "start";
    options: ServeOptions;
    logLevel: LogLevel;
    logFormat: "text" | "json";
  }
  | { type: "shutdown"; graceMs: number }
  | { type: "metrics"; id: number };

/** Messages a worker sends the main thread. */
export type FromWorker =
  | { type: "listening"; addrs: Deno.NetAddr[] }
  | { type: "failed"; message: string }
  | { type: "log"; text: string }
  | {
    type: "metrics";
    id: number;
    entries: ReturnType<MemoryMetrics["entries"]>;
  }
  | { type: "stopped" };

const _post = (message: FromWorker) => self.postMessage(message);
const _logs = createBatchedWriter((text) => _post({ type: "log", text }), 50);
const _metrics = new MemoryMetrics();
let _server: Socks5Server | undefined;

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "start") {
    try {
      _server = serve({
        ...message.options,
        reusePort: true,
        metrics: _metrics,
        logger: createLogger({
          level: message.logLevel,
          format: message.logFormat,
          write: _logs.write,
        }),
      });
      _logs.flush();
      _post({ type: "listening", addrs: [..._server.addrs] });
    } catch (error) {
      _post({
        type: "failed",
        message: error instanceof Error ? error.message : String(error),
      });
    }
  } else if (message.type === "shutdown") {
    await _server?.shutdown({ graceMs: message.graceMs });
    _logs.flush();
    _post({ type: "stopped" });
  } else if (message.type === "metrics") {
    _post({ type: "metrics", id: message.id, entries: _metrics.entries() });
  }
};
