/**
 * The admin listener's handler, one runtime-neutral `Request → Response`
 * function: `/metrics`, `/healthz`, `/readyz`, `/api/sessions`,
 * `/api/status` and the status page at `/`.
 *
 * @module
 */

import type { SessionInfo } from "../core/session_info.ts";
import type { ConfigStatus } from "../observability/config_status.ts";
import { type Logger, silentLogger } from "../observability/logger.ts";
import { MemoryMetrics, type MetricsDump } from "../observability/metrics.ts";
import type { ProcessStats } from "../runtime/runtime.ts";
import { hasToken } from "./admin_auth.ts";
import { type BuildInfo, processExposition } from "./process_exposition.ts";
import { buildStatusSnapshot } from "./status_snapshot.ts";
import { STATUS_PAGE_HTML } from "./status_page.ts";
import { ThroughputHistory } from "./throughput_history.ts";

/** Where the handler reads the server's state: one server or all workers. */
export interface AdminSource {
  /** The merged metrics, sessions in progress included. */
  dump(): MetricsDump | Promise<MetricsDump>;
  /** The sessions in progress. */
  sessions(): SessionInfo[] | Promise<SessionInfo[]>;
  /** Whether the server is draining (then `/readyz` answers 503). */
  draining(): boolean;
}

/** Options of {@linkcode createAdminHandler}. */
export interface AdminHandlerOptions {
  /** The server's state. */
  source: AdminSource;
  /** Version and runtime, for `socks5_build_info` and the page. */
  build: BuildInfo;
  /**
   * The configuration generation; a reload updates the object in place.
   */
  config: ConfigStatus;
  /** What the process uses, for the `process_*` metrics. */
  processStats?: () => ProcessStats;
  /**
   * When set, every path but `/healthz` and `/readyz` needs
   * `Authorization: Bearer TOKEN` or basic auth with TOKEN as password.
   * @default {null}
   */
  token?: string | null;
  /**
   * How often throughput is sampled for the chart, in ms.
   * @default {2000}
   */
  sampleIntervalMs?: number;
  /**
   * How many intervals the chart covers.
   * @default {150}
   */
  samples?: number;
  /**
   * The clock, ms since the epoch.
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * Logs each request at debug level: method, path, status; never a header.
   * @default {silentLogger}
   */
  logger?: Logger;
}

/** A running admin handler: it samples throughput until closed. */
export interface AdminHandler extends Disposable {
  /**
   * Answers one request.
   *
   * @param request The request.
   * @returns The response.
   */
  handle(request: Request): Promise<Response>;
  /** Stops sampling; idempotent. */
  close(): void;
}

const _TEXT = "text/plain; charset=utf-8";
const _PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Creates the handler.
 *
 * @example
 * ```ts
 * import { createAdminHandler } from "./admin_handler.ts";
 * import { createConfigStatus } from "../observability/config_status.ts";
 * import { MemoryMetrics } from "../observability/metrics.ts";
 * const metrics = new MemoryMetrics();
 * using admin = createAdminHandler({
 *   source: { dump: () => metrics.dump(), sessions: () => [], draining: () => false },
 *   build: { version: "0.2.0", runtime: "deno", runtimeVersion: "2" },
 *   config: createConfigStatus(),
 * });
 * const response = await admin.handle(new Request("http://127.0.0.1/healthz"));
 * ```
 *
 * @param options Source, build info, token, chart settings.
 * @returns The handler.
 */
export function createAdminHandler(
  options: AdminHandlerOptions,
): AdminHandler {
  const now = options.now ?? Date.now;
  const token = options.token ?? null;
  const history = new ThroughputHistory((options.samples ?? 150) + 1);
  const sample = async () => {
    try {
      const metrics = new MemoryMetrics();
      metrics.merge(await options.source.dump());
      history.record(
        now(),
        metrics.get("relayed_bytes_total", { direction: "up" }),
        metrics.get("relayed_bytes_total", { direction: "down" }),
      );
    } catch {
      // A worker that is gone answers nothing: skip this sample.
    }
  };
  sample();
  const timer = setInterval(sample, options.sampleIntervalMs ?? 2_000);
  let closed = false;
  const close = () => {
    if (!closed) clearInterval(timer);
    closed = true;
  };

  const routes: Record<string, () => Promise<Response>> = {
    "/metrics": async () => {
      const metrics = new MemoryMetrics();
      metrics.merge(await options.source.dump());
      const text = metrics.toPrometheus() +
        processExposition(
          options.build,
          options.config,
          options.processStats?.() ?? null,
        );
      return new Response(text, { headers: { "content-type": _PROMETHEUS } });
    },
    "/api/sessions": async () => {
      const at = now();
      const sessions = (await options.source.sessions()).map((s) => ({
        ...s,
        ageSeconds: (at - s.startedAt) / 1000,
      }));
      return Response.json(sessions, { headers: _NO_STORE });
    },
    "/api/status": async () => {
      const [dump, sessions] = await Promise.all([
        options.source.dump(),
        options.source.sessions(),
      ]);
      return Response.json(
        buildStatusSnapshot({
          dump,
          sessions,
          build: options.build,
          config: options.config,
          draining: options.source.draining(),
          throughput: history.points(),
          now: now(),
        }),
        { headers: _NO_STORE },
      );
    },
    "/": () =>
      Promise.resolve(
        new Response(STATUS_PAGE_HTML, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            // The page runs only its own inline script and talks only to
            // this listener.
            "content-security-policy":
              "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
            ..._NO_STORE,
          },
        }),
      ),
  };

  const logger = options.logger ?? silentLogger;
  const answer = async (request: Request, path: string) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return _text(405, "Method not allowed\n", { allow: "GET, HEAD" });
    }
    // Probes stay open: they tell only whether the process is up and
    // accepting, and load balancers rarely send credentials.
    if (path === "/healthz") return _text(200, "ok\n");
    if (path === "/readyz") {
      return options.source.draining()
        ? _text(503, "draining\n")
        : _text(200, "ready\n");
    }
    const route = routes[path];
    if (route === undefined) return _text(404, "Not found\n");
    if (
      token !== null &&
      !(await hasToken(request.headers.get("authorization"), token))
    ) {
      return _text(401, "Unauthorized\n", {
        "www-authenticate": 'Basic realm="socks5-deno admin", charset="UTF-8"',
      });
    }
    return await route();
  };

  return {
    async handle(request) {
      const path = new URL(request.url).pathname;
      const response = await answer(request, path);
      if (logger.enabled("debug")) {
        logger.log("debug", "admin request", {
          method: request.method,
          path,
          status: response.status,
        });
      }
      return response;
    },
    close,
    [Symbol.dispose]: close,
  };
}

const _NO_STORE = { "cache-control": "no-store" };

function _text(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: { "content-type": _TEXT, ..._NO_STORE, ...headers },
  });
}
