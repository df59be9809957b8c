/**
 * Request/response latency: one worker loops open a tunnel → N exchanges of
 * a fixed-size message with an echo server (write it, read it back whole) →
 * close, and the run reports the latency of the first exchange on a fresh
 * tunnel (p50, p99) and of the later ones.
 *
 * This is the workload that shows Nagle's algorithm: a relay that forwards a
 * 1 KiB message in two writes without TCP_NODELAY holds the second for the
 * peer's delayed ACK, about 40 ms, on the first exchange of a connection.
 * Both ends of the benchmark set TCP_NODELAY (as SSH, HTTP clients and
 * databases do), so what shows is the proxy's own behaviour.
 *
 * @module
 */

import { Dialer, type Route } from "./dial.ts";
import type { LoadResult } from "./load_result.ts";
import { MeasureWindow } from "./measure_window.ts";
import { readExact, writeAll } from "./socks_client.ts";
import { quantileInPlace } from "./stats.ts";

/** Exchanges per tunnel: the first is reported apart from the rest. */
const EXCHANGES_PER_TUNNEL = 8;
/** Upper bound of tunnels per run. */
const MAX_TUNNELS = 2_000_000;
/** Latency samples kept per series. */
const MAX_SAMPLES = 1_000_000;
/** Pause after a failed tunnel, ms. */
const ERROR_BACKOFF_MS = 5;

/** Options for {@link runRequestResponse}. */
export interface RequestResponseOptions {
  /** Message size, bytes, 1 B – 1 MiB. */
  bytes: number;
  /** Route to an echo server that sets TCP_NODELAY. */
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

/** Runs the request/response workload and returns its result. */
export async function runRequestResponse(
  options: RequestResponseOptions,
): Promise<LoadResult> {
  const { bytes } = options;
  if (!(Number.isInteger(bytes) && bytes >= 1 && bytes <= 1 << 20)) {
    throw new RangeError(`Message size must be 1 B - 1 MiB: ${bytes}`);
  }
  const window = new MeasureWindow(options);
  const first = new Float64Array(MAX_SAMPLES);
  const later = new Float64Array(MAX_SAMPLES);
  const state = {
    exchanges: 0,
    firstSamples: 0,
    laterSamples: 0,
    errors: 0,
    lastError: "",
  };
  const dialer = new Dialer(options.route);
  const message = new Uint8Array(bytes).fill(0x61);
  const answer = new Uint8Array(bytes);
  let current: Deno.TcpConn | undefined;

  const loop = async () => {
    for (let t = 0; t < MAX_TUNNELS && !window.stopped; t++) {
      try {
        current = await dialer.open();
        current.setNoDelay(true);
        for (let i = 0; i < EXCHANGES_PER_TUNNEL && !window.stopped; i++) {
          const t0 = performance.now();
          await writeAll(current, message);
          await readExact(current, answer, bytes);
          const t1 = performance.now();
          if (!window.contains(t1)) continue;
          state.exchanges++;
          if (i === 0 && state.firstSamples < MAX_SAMPLES) {
            first[state.firstSamples++] = t1 - t0;
          } else if (i > 0 && state.laterSamples < MAX_SAMPLES) {
            later[state.laterSamples++] = t1 - t0;
          }
        }
      } catch (error) {
        if (window.stopped) return;
        state.errors++;
        state.lastError = error instanceof Error
          ? `${error.name}: ${error.message}`
          : String(error);
        await new Promise((r) => setTimeout(r, ERROR_BACKOFF_MS));
      } finally {
        try {
          current?.close();
        } catch {
          // closed by the end of the window
        }
        current = undefined;
      }
    }
  };

  const running = loop();
  const measured = await window.run(() => state.exchanges, () => {
    try {
      current?.close();
    } catch {
      // already closed
    }
  });
  await running;
  const result: LoadResult = {
    kind: "rr",
    windowSecs: measured.secs,
    errors: state.errors,
    exchangesPerSec: measured.delta / measured.secs,
  };
  const figures: Array<[keyof LoadResult, Float64Array, number, number]> = [
    ["p50Ms", first, state.firstSamples, 0.5],
    ["p99Ms", first, state.firstSamples, 0.99],
    ["laterP50Ms", later, state.laterSamples, 0.5],
    ["laterP99Ms", later, state.laterSamples, 0.99],
  ];
  for (const [key, samples, count, q] of figures) {
    const value = quantileInPlace(samples, count, q);
    if (value !== undefined) {
      (result as unknown as Record<string, number>)[key] = value;
    }
  }
  if (state.lastError) result.lastError = state.lastError;
  for (
    const key of [
      "proxyCpuPct",
      "clientCpuPct",
      "targetCpuPct",
      "machineCpuPct",
    ] as const
  ) {
    const value = measured[key];
    if (value !== undefined) result[key] = value;
  }
  return result;
}
