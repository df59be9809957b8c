/**
 * The HTTP handler that serves metrics in the Prometheus text format, as a
 * runtime-neutral `Request → Response` function.
 *
 * @module
 */

/** Anything that can render the Prometheus text format. */
export interface PrometheusSource {
  /** Renders the current values. */
  toPrometheus(): string | Promise<string>;
}

/**
 * Answers `GET /metrics` with the Prometheus text format 0.0.4, and 404 for
 * anything else.
 *
 * @example
 * ```ts
 * import { MemoryMetrics } from "./metrics.ts";
 * import { metricsHandler } from "./metrics_endpoint.ts";
 * const handle = metricsHandler(new MemoryMetrics());
 * const response = await handle(new Request("http://localhost/metrics"));
 * ```
 *
 * @param metrics What to expose.
 * @returns The handler.
 */
export function metricsHandler(
  metrics: PrometheusSource,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (new URL(request.url).pathname !== "/metrics") {
      return new Response("Not found\n", { status: 404 });
    }
    return new Response(await metrics.toPrometheus(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  };
}
