/**
 * Turns benchmark runs into medians, ratios to `direct`, and a Markdown
 * table a reader can follow without knowing the code.
 *
 * @module
 */

import type { LoadResult } from "./load_result.ts";
import { median } from "./stats.ts";
import type { Workload } from "./workloads.ts";

/** One workload run against one server in one repetition. */
export interface RunRecord {
  /** Server name, or `direct`. */
  server: string;
  /** Workload name. */
  workload: string;
  /** Repetition, from 1. */
  rep: number;
  /** What the load generator measured, if it ran. */
  result?: LoadResult;
  /** Why the run produced no result. */
  error?: string;
}

/** The name of the no-proxy baseline. */
export const DIRECT = "direct";

type _NumericKey = {
  [K in keyof LoadResult]-?: LoadResult[K] extends number | undefined ? K
    : never;
}[keyof LoadResult];

/** A figure shown in the table. */
interface _Metric {
  key: _NumericKey;
  label: string;
  /** Multiplier from the stored unit to the shown one. */
  scale?: number;
  /** Whether a ratio to direct means anything for this figure. */
  ratio: boolean;
}

const _METRICS: Record<Workload["kind"], _Metric[]> = {
  up: [{ key: "mbPerSec", label: "MB/s", ratio: true }],
  down: [{ key: "mbPerSec", label: "MB/s", ratio: true }],
  echo: [{ key: "mbPerSec", label: "MB/s", ratio: true }],
  cr: [
    { key: "connPerSec", label: "conn/s", ratio: true },
    { key: "p50Ms", label: "p50 ms", ratio: true },
    { key: "p99Ms", label: "p99 ms", ratio: true },
    { key: "proxyCpuUsPerConn", label: "CPU µs/conn", ratio: false },
  ],
  rr: [
    { key: "p50Ms", label: "first p50 ms", ratio: true },
    { key: "p99Ms", label: "first p99 ms", ratio: true },
    { key: "laterP50Ms", label: "later p50 ms", ratio: true },
  ],
  idle: [
    { key: "pssKibPerConn", label: "KiB/conn (PSS)", ratio: false },
    { key: "rssKibPerConn", label: "KiB/conn (RSS)", ratio: false },
    { key: "baseRssKib", label: "base RSS MiB", scale: 1 / 1024, ratio: false },
  ],
};

/** CPU figures kept in the `--json` medians. */
const _CPU_KEYS = [
  "proxyCpuPct",
  "clientCpuPct",
  "targetCpuPct",
  "machineCpuPct",
] as const;

/** Median of one figure over the repetitions, or `undefined`. */
export function medianOf(
  records: readonly RunRecord[],
  server: string,
  workload: string,
  key: _NumericKey,
): number | undefined {
  const values: number[] = [];
  for (const r of records) {
    if (r.server !== server || r.workload !== workload) continue;
    const v = r.result?.[key];
    if (typeof v === "number" && Number.isFinite(v)) values.push(v);
  }
  return median(values);
}

/** Medians per server, workload and figure, for `--json`. */
export function medians(
  records: readonly RunRecord[],
  servers: readonly string[],
  workloads: readonly Workload[],
): Record<string, Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, Record<string, number>>> = {};
  for (const server of servers) {
    const perServer: Record<string, Record<string, number>> = {};
    for (const w of workloads) {
      const figures: Record<string, number> = {};
      const keys = [..._METRICS[w.kind].map((m) => m.key), ..._CPU_KEYS];
      for (const key of keys) {
        const v = medianOf(records, server, w.name, key);
        if (v !== undefined) figures[key] = v;
      }
      if (Object.keys(figures).length > 0) perServer[w.name] = figures;
    }
    out[server] = perServer;
  }
  return out;
}

function _fmt(v: number | undefined): string {
  if (v === undefined) return "-";
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return v.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function _ratio(v: number | undefined, base: number | undefined): string {
  return v === undefined || base === undefined || base === 0
    ? "-"
    : `${(v / base).toFixed(2)}×`;
}

function _cpu(
  records: readonly RunRecord[],
  server: string,
  workload: string,
): string {
  const proxy = medianOf(records, server, workload, "proxyCpuPct");
  const client = medianOf(records, server, workload, "clientCpuPct");
  if (proxy === undefined && client === undefined) return "-";
  return `${proxy === undefined ? "-" : proxy.toFixed(0)} / ${
    client === undefined ? "-" : client.toFixed(0)
  }`;
}

/** Options for {@link renderTable}. */
export interface RenderOptions {
  /** Servers in column order; `direct` is placed first if present. */
  servers: readonly string[];
  /** Workloads in row order. */
  workloads: readonly Workload[];
  /** Servers that cannot run auth workloads. */
  noAuth: ReadonlySet<string>;
}

/** Renders the results as an aligned Markdown table. */
export function renderTable(
  records: readonly RunRecord[],
  options: RenderOptions,
): string {
  const proxies = options.servers.filter((s) => s !== DIRECT);
  const hasDirect = options.servers.includes(DIRECT);
  const header = ["workload", "metric"];
  if (hasDirect) header.push(DIRECT, "CPU gen");
  for (const p of proxies) header.push(p, "×direct", "CPU proxy / gen");
  const rows: string[][] = [];

  for (const w of options.workloads) {
    const baseWorkload = w.directAs ?? w.name;
    _METRICS[w.kind].forEach((m, i) => {
      const scale = m.scale ?? 1;
      const base = w.kind === "idle"
        ? undefined
        : medianOf(records, DIRECT, baseWorkload, m.key);
      const row = [i === 0 ? w.name : "", m.label];
      if (hasDirect) {
        const note = w.directAs && base !== undefined ? ` (${w.directAs})` : "";
        row.push(w.kind === "idle" ? "n/a" : _fmt(base) + note);
        const gen = medianOf(records, DIRECT, baseWorkload, "clientCpuPct");
        row.push(i === 0 && gen !== undefined ? gen.toFixed(0) : "");
      }
      for (const p of proxies) {
        if (w.auth && options.noAuth.has(p)) {
          row.push("n/a", "", "");
          continue;
        }
        const v = medianOf(records, p, w.name, m.key);
        row.push(_fmt(v === undefined ? undefined : v * scale));
        row.push(m.ratio && hasDirect ? _ratio(v, base) : "");
        row.push(i === 0 && w.kind !== "idle" ? _cpu(records, p, w.name) : "");
      }
      rows.push(row);
    });
    // Auth cost: the same server's rate with auth over its rate without.
    if (
      w.auth && w.directAs &&
      options.workloads.some((x) => x.name === w.directAs)
    ) {
      const row = ["", `conn/s ÷ ${w.directAs}`];
      if (hasDirect) row.push("", "");
      for (const p of proxies) {
        const on = medianOf(records, p, w.name, "connPerSec");
        const off = medianOf(records, p, w.directAs, "connPerSec");
        row.push(
          w.auth && options.noAuth.has(p) ? "n/a" : _ratio(on, off),
          "",
          "",
        );
      }
      rows.push(row);
    }
  }
  return _markdown(header, rows);
}

function _markdown(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) =>
    Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length))
  );
  const numeric = (c: number) => c >= 2;
  const line = (cells: string[]) =>
    "| " +
    cells.map((cell, c) =>
      numeric(c) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)
    ).join(" | ") +
    " |";
  const rule = "|" +
    widths.map((
      w,
      c,
    ) => (numeric(c) ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join("|") +
    "|";
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/**
 * Median CPU used during the windows by processes other than the proxy, the
 * load generator and the target (% of one core): how noisy the machine was.
 */
export function foreignCpu(records: readonly RunRecord[]): number | undefined {
  const values: number[] = [];
  for (const { result: r } of records) {
    if (r?.machineCpuPct === undefined || r.clientCpuPct === undefined) {
      continue;
    }
    if (r.targetCpuPct === undefined) continue;
    const own = (r.proxyCpuPct ?? 0) + r.clientCpuPct + r.targetCpuPct;
    values.push(Math.max(0, r.machineCpuPct - own));
  }
  return median(values);
}

/** Plain-language notes under the table. */
export function legend(reps: number, secs: number, cores: number): string {
  return [
    `Medians of ${reps} repetition(s), ${secs} s windows, loopback only. Ratios are to \`direct\``,
    "(no proxy) measured in the same run; on a shared machine differences under ~15 % are noise.",
    "- MB/s: payload, 10^6 bytes/s. up = client → sink, down = source → client, echo = both ways",
    "  through an echo server (bytes echoed back).",
    "- conn/s: completed loops of connect → greeting → CONNECT → 32 B echo → close",
    "  (the target closes first; direct skips greeting and CONNECT); p50/p99: one loop.",
    "- CPU µs/conn: the proxy's CPU time per completed loop (median of the runs): what a",
    "  session costs, whoever else slows the machine; still compare servers of one run.",
    "- ×direct: server ÷ direct. Higher is better for MB/s and conn/s, lower for ms.",
    `- CPU: % of one core over the window (${cores} cores = ${
      cores * 100
    } %), proxy process tree /`,
    "  load generator. A load generator near 100 % means it, not the proxy, set the pace.",
    "- idle2000: proxy memory growth per held tunnel after 2,000 CONNECT + echo (PSS from",
    "  /proc/PID/smaps_rollup; kernel socket buffers excluded); base RSS before any connection.",
    "- cr64auth: cr64 against a second instance requiring username/password (RFC 1929);",
    "  `conn/s ÷ cr64` is that server's rate with auth on over auth off.",
    "- cr64hash: cr64auth with the user's password stored as a bcrypt hash (users file);",
    "  after the first login the server checks a keyed digest, not the hash.",
  ].join("\n");
}

/** Options for {@link renderPeerRatios}. */
export interface PeerRatioOptions {
  /** This project's servers (rows). */
  ours: readonly string[];
  /** The other servers measured (columns): microsocks, Dante. */
  peers: readonly string[];
  /** Workloads in row order. */
  workloads: readonly Workload[];
  /** Servers that cannot run auth workloads. */
  noAuth: ReadonlySet<string>;
}

/**
 * Renders each of this project's servers against each peer: the main
 * figure of every workload as a ratio (conn/s and MB/s: above 1 is better;
 * p99, CPU per connection and KiB per connection: below 1 is better).
 *
 * @param records Every run.
 * @param options Which servers are ours, which are peers.
 * @returns A Markdown table, or `""` when there is no peer to compare to.
 */
export function renderPeerRatios(
  records: readonly RunRecord[],
  options: PeerRatioOptions,
): string {
  if (options.ours.length === 0 || options.peers.length === 0) return "";
  const header = ["workload", "metric"];
  for (const o of options.ours) {
    for (const p of options.peers) header.push(`${o} ÷ ${p}`);
  }
  const rows: string[][] = [];
  for (const w of options.workloads) {
    const metrics = w.kind === "idle"
      ? _METRICS.idle.filter((m) => m.key !== "rssKibPerConn")
      : w.kind === "cr"
      ? _METRICS.cr.filter((m) => m.key !== "p50Ms")
      : _METRICS[w.kind].slice(0, 1);
    for (const [i, m] of metrics.entries()) {
      const row = [i === 0 ? w.name : "", m.label];
      for (const o of options.ours) {
        for (const p of options.peers) {
          const skip = w.auth && options.noAuth.has(p);
          row.push(
            skip ? "n/a" : _ratio(
              medianOf(records, o, w.name, m.key),
              medianOf(records, p, w.name, m.key),
            ),
          );
        }
      }
      rows.push(row);
    }
  }
  return _markdown(header, rows);
}
