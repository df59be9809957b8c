/**
 * The series `/metrics` adds beside the server's own: `socks5_build_info`,
 * the configuration generation, and the standard `process_*` metrics. They
 * describe the whole process, so they are rendered once by the main thread,
 * never summed over workers.
 *
 * @module
 */

import type { ConfigStatus } from "../observability/config_status.ts";
import { formatLabels } from "../observability/metrics.ts";
import type { ProcessStats } from "../runtime/runtime.ts";

/** What the build reports. */
export interface BuildInfo {
  /** The program's version. */
  version: string;
  /** `deno` or `bun`. */
  runtime: string;
  /** The runtime's version. */
  runtimeVersion: string;
}

/**
 * Renders the process-wide families in the text format.
 *
 * @param build Version and runtime.
 * @param config The configuration generation.
 * @param stats What the process uses, when known.
 * @returns The text.
 */
export function processExposition(
  build: BuildInfo,
  config: ConfigStatus,
  stats: ProcessStats | null,
): string {
  let out = _family(
    "socks5_build_info",
    "gauge",
    "Always 1; the labels say what runs.",
    formatLabels({
      version: build.version,
      runtime: build.runtime,
      runtime_version: build.runtimeVersion,
    }),
    1,
  );
  out += _family(
    "socks5_config_generation",
    "gauge",
    "The running configuration's generation: 1 at start, +1 per reload.",
    "",
    config.generation,
  );
  out += _family(
    "socks5_config_loaded_timestamp_seconds",
    "gauge",
    "When the running configuration was loaded.",
    "",
    config.loadedAt / 1000,
  );
  if (stats === null) return out;
  out += _family(
    "process_resident_memory_bytes",
    "gauge",
    "Resident memory size in bytes.",
    "",
    stats.residentBytes,
  );
  // Not process_* names: those are the client libraries' standard set, and
  // a heap is the runtime's (V8 on Deno, JavaScriptCore on Bun).
  out += _family(
    "socks5_heap_used_bytes",
    "gauge",
    "JavaScript heap in use, in bytes.",
    "",
    stats.heapUsedBytes,
  );
  out += _family(
    "socks5_heap_total_bytes",
    "gauge",
    "JavaScript heap size the engine reports, in bytes (V8: used and free).",
    "",
    stats.heapTotalBytes,
  );
  out += _family(
    "socks5_external_memory_bytes",
    "gauge",
    "Memory outside the JavaScript heap held by its objects (buffers), in bytes.",
    "",
    stats.externalBytes,
  );
  out += _family(
    "process_cpu_seconds_total",
    "counter",
    "Total user and system CPU time spent in seconds.",
    "",
    stats.cpuSeconds,
  );
  out += _family(
    "process_start_time_seconds",
    "gauge",
    "Start time of the process since unix epoch in seconds.",
    "",
    Math.floor(stats.startTimeSeconds),
  );
  if (stats.openFds !== null) {
    out += _family(
      "process_open_fds",
      "gauge",
      "Number of open file descriptors.",
      "",
      stats.openFds,
    );
  }
  if (stats.maxFds !== null) {
    out += _family(
      "process_max_fds",
      "gauge",
      "Maximum number of open file descriptors.",
      "",
      stats.maxFds,
    );
  }
  return out;
}

function _family(
  name: string,
  type: string,
  help: string,
  labels: string,
  value: number,
): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name}${labels} ${value}\n`;
}
