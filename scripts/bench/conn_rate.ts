/**
 * Connection-rate workload: workers loop connect → greeting → CONNECT →
 * 32-byte echo → close, and the run reports completions per second and the
 * latency of one iteration (p50, p99).
 *
 * The destination (the `once` target) closes first after its echo; the loop
 * waits for that EOF to arrive through the proxy, then closes. So an
 * iteration also covers the proxy passing a close on, and TIME_WAIT entries
 * stay on the listening sides instead of eating ephemeral ports.
 *
 * @module
 */

import { Dialer, type Route } from "./dial.ts";
import type { LoadResult } from "./load_result.ts";
import { MeasureWindow } from "./measure_window.ts";
import { readExact, writeAll } from "./socks_client.ts";
import { quantileInPlace } from "./stats.ts";
import { ONCE_MESSAGE_BYTES } from "./workloads.ts";

/** Upper bound of iterations per worker per run. */
const MAX_ITERATIONS = 5_000_000;
/** Latency samples kept; beyond this, iterations are counted but not timed. */
const MAX_SAMPLES = 4_000_000;
/** Pause after a failed iteration, ms. */
const ERROR_BACKOFF_MS = 5;
/** How long stragglers may take to finish after the window closes, ms. */
const DRAIN_MS = 2000;

/** Options for {@link runConnRate}. */
export interface ConnRateOptions {
  /** Concurrent workers, 1–1024. */
  workers: number;
  /** Route to the `once` target. */
  route: Route;
  /** Warm-up seconds before the window. */
  warmupSecs: number;
  /** Window seconds. */
  secs: number;
  /** Proxy PID for CPU sampling. @default undefined */
  proxyPid?: number;
  /** Target PID for CPU sampling. @default undefined */
  targetPid?: number;
}

/** Runs one connection-rate workload and returns its result. */
export async function runConnRate(
  options: ConnRateOptions,
): Promise<LoadResult> {
  const { workers } = options;
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 1024)) {
    throw new RangeError(`Workers must be 1-1024: ${workers}`);
  }
  const window = new MeasureWindow(options);
  const latencies = new Float64Array(MAX_SAMPLES);
  const state = { completed: 0, samples: 0, errors: 0, lastError: "" };
  const current = new Set<Deno.TcpConn>();

  const worker = async () => {
    const dialer = new Dialer(options.route);
    const message = new Uint8Array(ONCE_MESSAGE_BYTES).fill(0x42);
    const reply = new Uint8Array(ONCE_MESSAGE_BYTES);
    for (let i = 0; i < MAX_ITERATIONS && !window.stopped; i++) {
      const t0 = performance.now();
      let conn: Deno.TcpConn | undefined;
      try {
        conn = await dialer.open();
        current.add(conn);
        await writeAll(conn, message);
        await readExact(conn, reply, ONCE_MESSAGE_BYTES);
        if ((await conn.read(reply)) !== null) {
          throw new Error("Expected the destination's close after the echo");
        }
      } catch (error) {
        if (!window.stopped) {
          state.errors++;
          state.lastError = error instanceof Error
            ? `${error.name}: ${error.message}`
            : String(error);
          // A refusing proxy would otherwise turn this loop into a busy spin.
          await new Promise((r) => setTimeout(r, ERROR_BACKOFF_MS));
        }
        continue;
      } finally {
        if (conn) {
          current.delete(conn);
          try {
            conn.close();
          } catch {
            // closed by the end of the window
          }
        }
      }
      const t1 = performance.now();
      if (window.contains(t1)) {
        state.completed++;
        if (state.samples < MAX_SAMPLES) latencies[state.samples++] = t1 - t0;
      }
    }
  };

  const running = Promise.allSettled(Array.from({ length: workers }, worker));
  const measured = await window.run(() => state.completed, () => {});
  // Let in-flight iterations finish, then cut off any that hang.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    running,
    new Promise((r) => (timer = setTimeout(r, DRAIN_MS))),
  ]);
  clearTimeout(timer);
  for (const conn of current) {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
  const result: LoadResult = {
    kind: "cr",
    windowSecs: measured.secs,
    errors: state.errors,
    connPerSec: measured.delta / measured.secs,
  };
  const p50 = quantileInPlace(latencies, state.samples, 0.5);
  const p99 = quantileInPlace(latencies, state.samples, 0.99);
  if (p50 !== undefined) result.p50Ms = p50;
  if (p99 !== undefined) result.p99Ms = p99;
  if (state.lastError) result.lastError = state.lastError;
  if (measured.proxyCpuPct !== undefined) {
    result.proxyCpuPct = measured.proxyCpuPct;
    if (measured.delta > 0) {
      // % of one core over the window, spread over the connections in it.
      result.proxyCpuUsPerConn = (measured.proxyCpuPct / 100) *
        measured.secs * 1e6 / measured.delta;
    }
  }
  if (measured.clientCpuPct !== undefined) {
    result.clientCpuPct = measured.clientCpuPct;
  }
  if (measured.targetCpuPct !== undefined) {
    result.targetCpuPct = measured.targetCpuPct;
  }
  if (measured.machineCpuPct !== undefined) {
    result.machineCpuPct = measured.machineCpuPct;
  }
  return result;
}
