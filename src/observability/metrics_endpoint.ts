/**
 * An HTTP endpoint that serves metrics in the Prometheus text format.
 *
 * @module
 */

/** Anything that can render the Prometheus text format. */
export interface PrometheusSource {
  /** Renders the current values. */
  toPrometheus(): string | Promise<string>;
}

/** Options of {@linkcode serveMetrics}. */
export interface MetricsEndpointOptions {
  /**
   * Address to listen on.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port; 0 picks a free one.
   * @default {9180}
   */
  port?: number;
}

/**
 * Serves `GET /metrics` (Prometheus text format 0.0.4) and 404 for anything
 * else.
 *
 * @example
 * ```ts
 * import { MemoryMetrics } from "./metrics.ts";
 * import { serveMetrics } from "./metrics_endpoint.ts";
 * const endpoint = serveMetrics(new MemoryMetrics(), { port: 0 });
 * await endpoint.shutdown();
 * ```
 *
 * @param metrics What to expose.
 * @param options Where to listen.
 * @returns The HTTP server; call `shutdown()` to stop it.
 */
export function serveMetrics(
  metrics: PrometheusSource,
  options: MetricsEndpointOptions = {},
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 9180,
    onListen: () => {},
  }, async (request) => {
    if (new URL(request.url).pathname !== "/metrics") {
      return new Response("Not found\n", { status: 404 });
    }
    return new Response(await metrics.toPrometheus(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  });
}
