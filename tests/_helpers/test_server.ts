/**
 * Starts the library server on loopback port 0 with captured logs and
 * in-memory metrics.
 *
 * @module
 */

import { createLogger } from "../../src/observability/logger.ts";
import { MemoryMetrics } from "../../src/observability/metrics.ts";
import {
  type ServeOptions,
  serveWith,
  type Socks5Server,
} from "../../src/core/server.ts";
import { denoRuntime } from "../../src/mod.ts";
import type { GssLoader } from "../../src/runtime/gssapi.ts";
import type { NetAddress } from "../../src/runtime/transport.ts";

/** A server under test. */
export interface TestServer extends AsyncDisposable {
  /** The server. */
  server: Socks5Server;
  /** Its first listener. */
  addr: NetAddress & { transport: "tcp" };
  /** Its metrics. */
  metrics: MemoryMetrics;
  /** Every JSON log line so far, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Every raw log line so far. */
  lines: string[];
  /**
   * Waits until `count` access-log lines exist (sessions are logged after
   * they close).
   */
  sessions(count?: number): Promise<Array<Record<string, unknown>>>;
}

/**
 * Starts a server on 127.0.0.1:0 (unless `listen` says otherwise).
 *
 * @param options Server options; logger and metrics are supplied.
 * @param hooks A GSS-API loader replacing the runtime's (a fake library).
 * @returns The server and its captured output.
 */
export async function startServer(
  options: ServeOptions = {},
  hooks: { loadGssapi?: GssLoader } = {},
): Promise<TestServer> {
  const lines: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  const logger = createLogger({
    level: "debug",
    format: "json",
    write: (line) => {
      lines.push(line);
      logs.push(JSON.parse(line));
      for (const wake of waiters.splice(0)) wake();
    },
  });
  const metrics = new MemoryMetrics();
  const runtime = hooks.loadGssapi
    ? { ...denoRuntime, loadGssapi: hooks.loadGssapi }
    : denoRuntime;
  const server = await serveWith(runtime, {
    listen: { hostname: "127.0.0.1", port: 0 },
    ...options,
    logger,
    metrics,
  });
  const sessionLines = () => logs.filter((l) => l.msg === "session");
  return {
    server,
    addr: { transport: "tcp", ...server.addr },
    metrics,
    logs,
    lines,
    async sessions(count = 1) {
      while (sessionLines().length < count) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return sessionLines();
    },
    [Symbol.asyncDispose]: () => server.shutdown({ graceMs: 0 }),
  };
}
