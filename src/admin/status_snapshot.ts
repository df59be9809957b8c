/**
 * The status page's data (`GET /api/status`): sessions in progress,
 * per-user totals, reply codes, throughput and the configuration
 * generation, built from the merged metrics and the session registry.
 *
 * @module
 */

import type { SessionInfo } from "../core/session_info.ts";
import type { ConfigStatus } from "../observability/config_status.ts";
import { MemoryMetrics, type MetricsDump } from "../observability/metrics.ts";
import type { BuildInfo } from "./process_exposition.ts";
import type { ThroughputPoint } from "./throughput_history.ts";

/** A session row, with its age. */
export interface SessionRow extends SessionInfo {
  /** Seconds since accept. */
  ageSeconds: number;
}

/** One user's totals ("" is traffic without authentication). */
export interface UserTotals {
  /** The user label (`(other)` beyond the label cap). */
  user: string;
  /** Sessions in progress. */
  active: number;
  /** Requests read. */
  requests: number;
  /** Bytes client → destination, sessions in progress included. */
  bytesUp: number;
  /** Bytes destination → client, sessions in progress included. */
  bytesDown: number;
}

/** Everything the status page shows. */
export interface StatusSnapshot {
  /** Version and runtime. */
  build: BuildInfo;
  /** When this snapshot was taken, ms since the epoch. */
  now: number;
  /** Whether the server is draining (shutting down). */
  draining: boolean;
  /** The configuration generation and when it was loaded. */
  config: ConfigStatus;
  /** Totals since start. */
  totals: {
    sessions: number;
    active: number;
    bytesUp: number;
    bytesDown: number;
  };
  /** Sessions in progress, oldest first. */
  sessions: SessionRow[];
  /** Per-user totals, busiest first. */
  users: UserTotals[];
  /** Final replies by protocol and code (codes with a count only). */
  replies: Array<{ protocol: string; code: string; count: number }>;
  /** Throughput over the last minutes, oldest first. */
  throughput: ThroughputPoint[];
}

/** What {@linkcode buildStatusSnapshot} reads. */
export interface StatusInputs {
  /** Merged metrics, sessions in progress included. */
  dump: MetricsDump;
  /** Sessions in progress. */
  sessions: SessionInfo[];
  /** Version and runtime. */
  build: BuildInfo;
  /** The configuration generation. */
  config: ConfigStatus;
  /** Whether the server is draining. */
  draining: boolean;
  /** The chart's points. */
  throughput: ThroughputPoint[];
  /** Now, ms since the epoch. */
  now: number;
}

/**
 * Builds the snapshot.
 *
 * @param inputs Metrics, sessions and status.
 * @returns The snapshot, ready for `JSON.stringify`.
 */
export function buildStatusSnapshot(inputs: StatusInputs): StatusSnapshot {
  const metrics = new MemoryMetrics();
  metrics.merge(inputs.dump);
  const users = new Map<string, UserTotals>();
  const userOf = (user: string) => {
    let totals = users.get(user);
    if (!totals) {
      totals = { user, active: 0, requests: 0, bytesUp: 0, bytesDown: 0 };
      users.set(user, totals);
    }
    return totals;
  };
  for (const row of metrics.series("relayed_bytes_total")) {
    if (row.value === 0) continue;
    const totals = userOf(row.labels.user!);
    if (row.labels.direction === "up") totals.bytesUp += row.value;
    else totals.bytesDown += row.value;
  }
  for (const row of metrics.series("requests_total")) {
    if (row.value > 0) userOf(row.labels.user!).requests += row.value;
  }
  for (const session of inputs.sessions) {
    if (session.user !== null || session.stage === "command") {
      userOf(session.user ?? "").active++;
    }
  }
  const replies = new Map<
    string,
    { protocol: string; code: string; count: number }
  >();
  for (const row of metrics.series("replies_total")) {
    if (row.value === 0) continue;
    const key = `${row.labels.protocol} ${row.labels.code}`;
    const entry = replies.get(key) ??
      { protocol: row.labels.protocol!, code: row.labels.code!, count: 0 };
    entry.count += row.value;
    replies.set(key, entry);
  }
  return {
    build: inputs.build,
    now: inputs.now,
    draining: inputs.draining,
    config: { ...inputs.config },
    totals: {
      sessions: metrics.get("sessions_total"),
      active: metrics.get("sessions_active"),
      bytesUp: metrics.get("relayed_bytes_total", { direction: "up" }),
      bytesDown: metrics.get("relayed_bytes_total", { direction: "down" }),
    },
    sessions: inputs.sessions
      .map((s) => ({ ...s, ageSeconds: (inputs.now - s.startedAt) / 1000 }))
      .sort((a, b) => a.startedAt - b.startedAt),
    users: [...users.values()].sort((a, b) =>
      b.bytesUp + b.bytesDown - (a.bytesUp + a.bytesDown) ||
      a.user.localeCompare(b.user)
    ),
    replies: [...replies.values()].sort((a, b) =>
      a.protocol.localeCompare(b.protocol) || Number(a.code) - Number(b.code)
    ),
    throughput: inputs.throughput,
  };
}
