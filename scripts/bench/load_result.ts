/**
 * The JSON result that `load.ts` prints, one object per run.
 *
 * Shared by the load generator (producer) and `bench.ts` (consumer) so both
 * sides agree on field names and units.
 *
 * @module
 */

/** What one load-generator run measured. Absent fields were not measured. */
export interface LoadResult {
  /** Workload kind that ran. */
  kind: "up" | "down" | "echo" | "cr" | "rr" | "idle";
  /** Measurement window, seconds (after warm-up). */
  windowSecs: number;
  /** Failed connections or transfers during the run. */
  errors: number;
  /** Message of the last failure, for the report. */
  lastError?: string;
  /** Throughput, MB/s (10^6 bytes per second) of payload. */
  mbPerSec?: number;
  /** Completed connect→echo→close iterations per second. */
  connPerSec?: number;
  /**
   * Median iteration latency, ms (cr); median latency of a fresh tunnel's
   * first exchange (rr).
   */
  p50Ms?: number;
  /** 99th-percentile of the same, ms. */
  p99Ms?: number;
  /** Request/response: exchanges per second. */
  exchangesPerSec?: number;
  /** Request/response: median latency of the later exchanges, ms. */
  laterP50Ms?: number;
  /** Request/response: 99th-percentile latency of the later exchanges, ms. */
  laterP99Ms?: number;
  /** CPU of the proxy process tree during the window, % of one core. */
  proxyCpuPct?: number;
  /**
   * Connection rate: proxy CPU time per completed connection, µs. Time the
   * proxy waits for a core taken by another tenant is not in it, so it
   * moves less than conn/s on a shared machine (it still grows when the
   * machine is busy: caches and cores are shared).
   */
  proxyCpuUsPerConn?: number;
  /** CPU of the load generator during the window, % of one core. */
  clientCpuPct?: number;
  /** CPU of the target process during the window, % of one core. */
  targetCpuPct?: number;
  /** Busy CPU of the whole machine during the window, % of one core. */
  machineCpuPct?: number;
  /** Idle workload: connections asked for. */
  idleConns?: number;
  /** Idle workload: connections that completed CONNECT and the first echo. */
  idleReady?: number;
  /** Idle workload: connections still echoing after the hold. */
  idleAlive?: number;
  /** Proxy RSS before any benchmark connection, KiB. */
  baseRssKib?: number;
  /** Proxy PSS growth per held connection, KiB. */
  pssKibPerConn?: number;
  /** Proxy RSS growth per held connection, KiB. */
  rssKibPerConn?: number;
}
