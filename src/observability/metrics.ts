/**
 * Counters and gauges: a small hook interface and an in-memory default that
 * renders the Prometheus text format.
 *
 * @module
 */

/** Monotonic counters the server increments. */
export type CounterName =
  | "sessions_total"
  | "sessions_rejected_total"
  | "handshake_failures_total"
  | "auth_failures_total"
  | "replies_total"
  | "bytes_up_total"
  | "bytes_down_total"
  | "udp_datagrams_up_total"
  | "udp_datagrams_down_total"
  | "udp_dropped_total"
  | "accept_errors_total"
  | "accept_pauses_total";

/** Gauges the server moves up and down. */
export type GaugeName = "sessions_active" | "udp_associations_active";

/**
 * Where the server reports what it does. Implement it to feed another
 * metrics system; the default is {@linkcode MemoryMetrics}.
 */
export interface Metrics {
  /**
   * Adds to a counter.
   *
   * @param name The counter.
   * @param by How much, default 1.
   * @param label The one label value for labelled counters:
   * `replies_total` by reply code, `udp_dropped_total` by reason,
   * `accept_errors_total` by kind.
   */
  count(name: CounterName, by?: number, label?: string): void;
  /**
   * Moves a gauge.
   *
   * @param name The gauge.
   * @param delta +1, -1, …
   */
  adjust(name: GaugeName, delta: number): void;
}

const _LABEL_KEYS: Partial<Record<CounterName, string>> = {
  replies_total: "rep",
  udp_dropped_total: "reason",
  accept_errors_total: "kind",
};

const _HELP: Record<CounterName | GaugeName, string> = {
  sessions_total: "Client connections accepted.",
  sessions_rejected_total:
    "Connections closed at once because max sessions was reached.",
  handshake_failures_total:
    "Sessions that ended before a valid request (bad frames, timeouts, EOF).",
  auth_failures_total: "Failed username/password authentications.",
  replies_total: "Replies sent, by REP code.",
  bytes_up_total: "Payload bytes relayed client to destination.",
  bytes_down_total: "Payload bytes relayed destination to client.",
  udp_datagrams_up_total: "UDP datagrams relayed client to destination.",
  udp_datagrams_down_total: "UDP datagrams relayed destination to client.",
  udp_dropped_total: "UDP datagrams dropped, by reason.",
  accept_errors_total:
    "Failed accept() calls, by kind: aborted and network concern one connection and are skipped at once; exhausted and other pause the accept loop.",
  accept_pauses_total:
    "Times the accept loop paused after running out of descriptors, buffers or memory.",
  sessions_active: "Sessions in progress.",
  udp_associations_active: "UDP associations in progress.",
};

/**
 * In-memory metrics: read them with {@linkcode MemoryMetrics.get} or
 * {@linkcode MemoryMetrics.snapshot}, expose them with
 * {@linkcode MemoryMetrics.toPrometheus}.
 *
 * @example
 * ```ts
 * import { MemoryMetrics } from "./metrics.ts";
 * const metrics = new MemoryMetrics();
 * metrics.count("replies_total", 1, "0");
 * metrics.get("replies_total", "0"); // 1
 * ```
 */
export class MemoryMetrics implements Metrics {
  #values = new Map<string, number>();

  /** Adds to a counter. */
  count(name: CounterName, by = 1, label?: string): void {
    const key = label === undefined ? name : `${name}\u0000${label}`;
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  /** Moves a gauge. */
  adjust(name: GaugeName, delta: number): void {
    this.#values.set(name, (this.#values.get(name) ?? 0) + delta);
  }

  /**
   * Reads one value.
   *
   * @param name A counter or gauge.
   * @param label The label value, for labelled counters.
   * @returns The value, 0 when never touched.
   */
  get(name: CounterName | GaugeName, label?: string): number {
    return this.#values.get(
      label === undefined ? name : `${name}\u0000${label}`,
    ) ??
      0;
  }

  /**
   * Every value with its name and label, for merging the metrics of several
   * workers.
   *
   * @returns `[name, label or null, value]` rows.
   */
  entries(): Array<[CounterName | GaugeName, string | null, number]> {
    return [...this.#values].map(([key, value]) => {
      const [name, label] = key.split("\u0000");
      return [name as CounterName | GaugeName, label ?? null, value];
    });
  }

  /**
   * Adds rows from {@linkcode MemoryMetrics.entries} of another instance.
   *
   * @param rows The rows.
   */
  merge(
    rows: Iterable<[CounterName | GaugeName, string | null, number]>,
  ): void {
    for (const [name, label, value] of rows) {
      const key = label === null ? name : `${name}\u0000${label}`;
      this.#values.set(key, (this.#values.get(key) ?? 0) + value);
    }
  }

  /**
   * All values, keyed `name` or `name{label}`.
   *
   * @returns A plain object copy.
   */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, value] of this.#values) {
      const [name, label] = key.split("\u0000");
      out[label === undefined ? name! : `${name}{${label}}`] = value;
    }
    return out;
  }

  /**
   * Renders the Prometheus text exposition format (version 0.0.4), every
   * metric prefixed `socks5_`.
   *
   * @returns The text body.
   */
  toPrometheus(): string {
    const byName = new Map<string, Array<[string | undefined, number]>>();
    for (const [key, value] of this.#values) {
      const [name, label] = key.split("\u0000");
      const rows = byName.get(name!) ?? [];
      rows.push([label, value]);
      byName.set(name!, rows);
    }
    let out = "";
    for (const name of Object.keys(_HELP) as Array<CounterName | GaugeName>) {
      const type = name.endsWith("_total") ? "counter" : "gauge";
      out += `# HELP socks5_${name} ${
        _HELP[name]
      }\n# TYPE socks5_${name} ${type}\n`;
      const rows = byName.get(name) ?? [];
      if (rows.length === 0 && !(name in _LABEL_KEYS)) {
        out += `socks5_${name} 0\n`;
      }
      for (const [label, value] of rows) {
        const key = _LABEL_KEYS[name as CounterName];
        out += label === undefined || key === undefined
          ? `socks5_${name} ${value}\n`
          : `socks5_${name}{${key}=${JSON.stringify(label)}} ${value}\n`;
      }
    }
    return out;
  }
}
