/**
 * Counters, gauges and histograms: a small hook interface and an in-memory
 * default that renders the Prometheus text format, with labels, a cap on
 * user labels, and dumps that merge across workers.
 *
 * @module
 */

/** Monotonic counters the server increments. */
export type CounterName =
  | "sessions_total"
  | "sessions_rejected_total"
  | "handshake_failures_total"
  | "auth_failures_total"
  | "requests_total"
  | "replies_total"
  | "relayed_bytes_total"
  | "udp_datagrams_total"
  | "udp_dropped_total"
  | "accept_errors_total"
  | "accept_pauses_total";

/** Gauges the server moves up and down. */
export type GaugeName = "sessions_active" | "udp_associations_active";

/** Histograms the server observes, in seconds. */
export type HistogramName =
  | "connect_duration_seconds"
  | "session_duration_seconds";

/** Label names and values of one series. */
export type MetricLabels = Readonly<Record<string, string>>;

/**
 * Labels as given to {@linkcode Metrics.count}: an object, or one string for
 * the metric's main label (`replies_total`: code, `udp_dropped_total` and
 * `sessions_rejected_total`: reason, `accept_errors_total`: kind).
 */
export type LabelsArgument = string | MetricLabels;

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
   * @param labels The series' labels (see {@linkcode METRIC_FAMILIES}).
   */
  count(name: CounterName, by?: number, labels?: LabelsArgument): void;
  /**
   * Moves a gauge.
   *
   * @param name The gauge.
   * @param delta +1, -1, …
   */
  adjust(name: GaugeName, delta: number): void;
  /**
   * Records one observation in a histogram.
   *
   * @param name The histogram.
   * @param seconds The value.
   */
  observe(name: HistogramName, seconds: number): void;
}

/** What the text format says about one metric family. */
export interface MetricFamily {
  /** `counter`, `gauge` or `histogram`. */
  readonly type: "counter" | "gauge" | "histogram";
  /** The HELP text. */
  readonly help: string;
  /** Its label names, in the order they are rendered. */
  readonly labels: readonly string[];
  /** Bucket upper bounds, for histograms. */
  readonly buckets?: readonly number[];
}

/**
 * Every family the server reports, in the order `/metrics` lists them; each
 * is exposed as `socks5_<name>`.
 */
export const METRIC_FAMILIES: Readonly<
  Record<CounterName | GaugeName | HistogramName, MetricFamily>
> = {
  sessions_total: {
    type: "counter",
    help: "Client connections accepted.",
    labels: [],
  },
  sessions_rejected_total: {
    type: "counter",
    help: "Connections closed at once, by reason (max_sessions: the limit).",
    labels: ["reason"],
  },
  sessions_active: {
    type: "gauge",
    help: "Sessions in progress.",
    labels: [],
  },
  handshake_failures_total: {
    type: "counter",
    help:
      "Sessions that ended before a valid request (bad frames, timeouts, EOF).",
    labels: [],
  },
  auth_failures_total: {
    type: "counter",
    help: "Failed authentications.",
    labels: [],
  },
  requests_total: {
    type: "counter",
    help:
      'Requests read, by protocol, command and user ("" without authentication).',
    labels: ["protocol", "command", "user"],
  },
  replies_total: {
    type: "counter",
    help:
      "Final replies sent, by protocol, command and the protocol's reply code.",
    labels: ["protocol", "command", "code"],
  },
  relayed_bytes_total: {
    type: "counter",
    help:
      "Payload bytes relayed, up (client to destination) and down, by protocol, command and user; sessions in progress included.",
    labels: ["direction", "protocol", "command", "user"],
  },
  udp_datagrams_total: {
    type: "counter",
    help: "UDP datagrams relayed, up (client to destination) and down.",
    labels: ["direction"],
  },
  udp_dropped_total: {
    type: "counter",
    help: "UDP datagrams dropped, by reason.",
    labels: ["reason"],
  },
  udp_associations_active: {
    type: "gauge",
    help: "UDP associations in progress.",
    labels: [],
  },
  connect_duration_seconds: {
    type: "histogram",
    help:
      "Time to open an outbound connection (resolution and every attempt), successful CONNECTs.",
    labels: [],
    buckets: [
      0.001,
      0.0025,
      0.005,
      0.01,
      0.025,
      0.05,
      0.1,
      0.25,
      0.5,
      1,
      2.5,
      5,
      10,
    ],
  },
  session_duration_seconds: {
    type: "histogram",
    help: "Session lifetime from accept to close.",
    labels: [],
    buckets: [0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 21600, 86400],
  },
  accept_errors_total: {
    type: "counter",
    help:
      "Failed accept() calls, by kind: aborted, unreachable, timed_out and permission_denied concern one connection and are skipped at once; exhausted and unknown kinds pause the accept loop.",
    labels: ["kind"],
  },
  accept_pauses_total: {
    type: "counter",
    help:
      "Times the accept loop paused after running out of descriptors, buffers or memory.",
    labels: [],
  },
};

/** The user label of users beyond the cap. */
export const OTHER_USERS = "(other)";

/**
 * A session's traffic so far, added to `relayed_bytes_total` at render time
 * so that long sessions show up before they end.
 */
export interface TrafficInFlight {
  /** The protocol label. */
  protocol: string;
  /** The command label. */
  command: string;
  /** The user label ("" without authentication). */
  user: string;
  /** Bytes client → destination. */
  up: number;
  /** Bytes destination → client. */
  down: number;
}

/**
 * Every value of a {@linkcode MemoryMetrics}, as plain data that survives
 * `structuredClone` (for `--workers`).
 */
export interface MetricsDump {
  /** `[series key, value]` of counters and gauges. */
  values: Array<[string, number]>;
  /** `[name, bucket counts, sum, count]` of histograms. */
  histograms: Array<[HistogramName, number[], number, number]>;
}

/** Options of {@linkcode MemoryMetrics}. */
export interface MemoryMetricsOptions {
  /**
   * How many distinct users get their own `user` label; later ones are
   * counted as `(other)`, so a large user base cannot blow up the series
   * count.
   * @default {100}
   */
  maxUserLabels?: number;
}

interface _Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const _SEP = "\u0000";

/** One level of the series-key cache: label value to next level or key. */
type _KeyNode = Map<string, _KeyNode | string>;

/**
 * In-memory metrics: read them with {@linkcode MemoryMetrics.get}, expose
 * them with {@linkcode MemoryMetrics.toPrometheus}, merge several with
 * {@linkcode MemoryMetrics.dump} and {@linkcode MemoryMetrics.merge}.
 *
 * @example
 * ```ts
 * import { MemoryMetrics } from "./metrics.ts";
 * const metrics = new MemoryMetrics();
 * metrics.count("replies_total", 1, { protocol: "socks5", command: "connect", code: "0" });
 * metrics.get("replies_total", { code: "0" }); // 1
 * ```
 */
export class MemoryMetrics implements Metrics {
  #values = new Map<string, number>();
  #histograms = new Map<HistogramName, _Histogram>();
  #users = new Set<string>();
  /**
   * Series keys already built, by metric and then label value in family
   * order: a session counts the same few label sets every time, and a key
   * found here is one short lookup per label instead of a concatenated
   * string to flatten and hash. Bounded like the series themselves.
   */
  #keys = new Map<string, _KeyNode>();
  #maxUsers: number;

  /**
   * Creates the instance with every unlabelled series at 0.
   *
   * @param options The user label cap.
   */
  constructor(options: MemoryMetricsOptions = {}) {
    this.#maxUsers = options.maxUserLabels ?? 100;
    if (!(Number.isInteger(this.#maxUsers) && this.#maxUsers >= 0)) {
      throw new RangeError(
        `maxUserLabels must be an integer >= 0, got ${options.maxUserLabels}`,
      );
    }
    for (const [name, family] of _families()) {
      if (family.type === "histogram") {
        this.#histograms.set(name as HistogramName, {
          counts: family.buckets!.map(() => 0),
          sum: 0,
          count: 0,
        });
      } else if (family.labels.length === 0) {
        this.#values.set(name, 0);
      }
    }
  }

  /** Adds to a counter. */
  count(name: CounterName, by = 1, labels?: LabelsArgument): void {
    const key = this.#key(name, labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  /** Moves a gauge. */
  adjust(name: GaugeName, delta: number): void {
    this.#values.set(name, (this.#values.get(name) ?? 0) + delta);
  }

  /** Records one observation. */
  observe(name: HistogramName, seconds: number): void {
    const histogram = this.#histograms.get(name)!;
    const buckets = METRIC_FAMILIES[name].buckets!;
    for (let i = 0; i < buckets.length; i++) {
      if (seconds <= buckets[i]!) histogram.counts[i]!++;
    }
    histogram.sum += seconds;
    histogram.count++;
  }

  /**
   * Reads a value: the sum over every series of `name` whose labels include
   * the given ones.
   *
   * @param name A counter or gauge.
   * @param labels Labels to match (a string matches the main label).
   * @returns The sum, 0 when nothing matches.
   */
  get(name: CounterName | GaugeName, labels?: LabelsArgument): number {
    const wanted = _labelsOf(name, labels);
    let total = 0;
    for (const row of this.series(name)) {
      if (Object.entries(wanted).every(([k, v]) => row.labels[k] === v)) {
        total += row.value;
      }
    }
    return total;
  }

  /**
   * Every series of one counter or gauge.
   *
   * @param name The metric.
   * @returns Its series with their labels, in creation order.
   */
  series(
    name: CounterName | GaugeName,
  ): Array<{ labels: Record<string, string>; value: number }> {
    const names = METRIC_FAMILIES[name].labels;
    const out = [];
    for (const [key, value] of this.#values) {
      // The cheap test first: this runs for every key of every family.
      if (
        !key.startsWith(name) ||
        (key.length > name.length && key[name.length] !== _SEP)
      ) continue;
      const parts = key.split(_SEP);
      if (parts[0] !== name) continue;
      const labels: Record<string, string> = {};
      names.forEach((label, i) => labels[label] = parts[i + 1] ?? "");
      out.push({ labels, value });
    }
    return out;
  }

  /**
   * Reads a histogram.
   *
   * @param name The histogram.
   * @returns Cumulative bucket counts (bucket order), sum and count.
   */
  histogram(
    name: HistogramName,
  ): { counts: number[]; sum: number; count: number } {
    const h = this.#histograms.get(name)!;
    return { counts: [...h.counts], sum: h.sum, count: h.count };
  }

  /**
   * Every value as plain data, plus the traffic of sessions in progress.
   *
   * @param inFlight Sessions still running, whose bytes are not counted yet.
   * @returns The dump.
   */
  dump(inFlight: Iterable<TrafficInFlight> = []): MetricsDump {
    const values = new Map(this.#values);
    for (const session of inFlight) {
      for (const direction of ["up", "down"] as const) {
        if (session[direction] === 0) continue;
        const key = this.#key("relayed_bytes_total", {
          direction,
          protocol: session.protocol,
          command: session.command,
          user: session.user,
        });
        values.set(key, (values.get(key) ?? 0) + session[direction]);
      }
    }
    return {
      values: [...values],
      histograms: [...this.#histograms].map((
        [name, h],
      ) => [name, [...h.counts], h.sum, h.count]),
    };
  }

  /**
   * Adds a dump of another instance (another worker) to this one.
   *
   * @param dump From {@linkcode MemoryMetrics.dump}.
   */
  merge(dump: MetricsDump): void {
    for (const [key, value] of dump.values) {
      this.#values.set(key, (this.#values.get(key) ?? 0) + value);
    }
    for (const [name, counts, sum, count] of dump.histograms) {
      const h = this.#histograms.get(name);
      if (!h) continue;
      counts.forEach((c, i) => h.counts[i] = (h.counts[i] ?? 0) + c);
      h.sum += sum;
      h.count += count;
    }
  }

  /**
   * Renders the Prometheus text exposition format (version 0.0.4), every
   * metric prefixed `socks5_`.
   *
   * @returns The text body.
   */
  toPrometheus(): string {
    let out = "";
    for (const [name, family] of _families()) {
      const full = `socks5_${name}`;
      out += `# HELP ${full} ${family.help}\n# TYPE ${full} ${family.type}\n`;
      if (family.type === "histogram") {
        const h = this.#histograms.get(name as HistogramName)!;
        family.buckets!.forEach((le, i) => {
          out += `${full}_bucket{le="${le}"} ${h.counts[i]}\n`;
        });
        out += `${full}_bucket{le="+Inf"} ${h.count}\n`;
        out += `${full}_sum ${h.sum}\n${full}_count ${h.count}\n`;
        continue;
      }
      for (const row of this.series(name as CounterName)) {
        out += `${full}${formatLabels(row.labels)} ${row.value}\n`;
      }
    }
    return out;
  }

  #key(name: CounterName, labels: LabelsArgument | undefined): string {
    const names = METRIC_FAMILIES[name].labels;
    // The common unlabelled call builds no label object.
    if (labels === undefined && names.length === 0) return name;
    const given = _labelsOf(name, labels);
    if (names.length === 0) return name;
    let node = this.#keys.get(name);
    if (!node) this.#keys.set(name, node = new Map());
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const value = this.#labelValue(given, names[i]!);
      let next = node.get(value) as _KeyNode | undefined;
      if (next === undefined) node.set(value, next = new Map());
      node = next;
    }
    const value = this.#labelValue(given, names[last]!);
    let key = node.get(value) as string | undefined;
    if (key === undefined) {
      key = name;
      for (const label of names) key += _SEP + this.#labelValue(given, label);
      node.set(value, key);
    }
    return key;
  }

  #labelValue(given: MetricLabels, label: string): string {
    const value = given[label] ?? "";
    return label === "user" ? this.#userLabel(value) : value;
  }

  #userLabel(user: string): string {
    if (user === "" || this.#users.has(user)) return user;
    if (this.#users.size >= this.#maxUsers) return OTHER_USERS;
    this.#users.add(user);
    return user;
  }
}

/**
 * Renders a label set in the text format, `{a="1",b="2"}`, escaping `\`,
 * `"` and newlines as the format requires; `""` for no labels.
 *
 * @param labels Names and values.
 * @returns The text.
 */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${
      v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")
    }"`
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function _families(): Array<[string, MetricFamily]> {
  return Object.entries(METRIC_FAMILIES);
}

function _labelsOf(
  name: CounterName | GaugeName,
  labels: LabelsArgument | undefined,
): MetricLabels {
  if (labels === undefined) return {};
  if (typeof labels !== "string") return labels;
  const main = name === "replies_total"
    ? "code"
    : METRIC_FAMILIES[name].labels[0];
  if (main === undefined) {
    throw new TypeError(`Metric ${JSON.stringify(name)} has no labels`);
  }
  return { [main]: labels };
}
