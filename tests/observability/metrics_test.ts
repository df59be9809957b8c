import assert from "node:assert/strict";
import {
  formatLabels,
  MemoryMetrics,
  METRIC_FAMILIES,
  OTHER_USERS,
} from "../../src/observability/metrics.ts";

const CONNECT = { protocol: "socks5", command: "connect" };

Deno.test("MemoryMetrics.get() returns 0 when a metric was never touched", () => {
  const metrics = new MemoryMetrics();
  assert.equal(metrics.get("sessions_total"), 0);
  assert.equal(metrics.get("replies_total", "0"), 0);
  assert.equal(metrics.get("sessions_active"), 0);
  assert.equal(metrics.get("relayed_bytes_total", { direction: "up" }), 0);
});

Deno.test("MemoryMetrics.count() adds 1 or the amount when counting", () => {
  const metrics = new MemoryMetrics();
  metrics.count("sessions_total");
  metrics.count("sessions_total");
  metrics.count("accept_pauses_total", 1500);
  metrics.count("accept_pauses_total", 0);
  metrics.count("accept_pauses_total", 20);
  assert.equal(metrics.get("sessions_total"), 2);
  assert.equal(metrics.get("accept_pauses_total"), 1520);
});

Deno.test("MemoryMetrics.get() sums the series whose labels include the given ones", () => {
  const metrics = new MemoryMetrics();
  metrics.count("replies_total", 1, { ...CONNECT, code: "0" });
  metrics.count("replies_total", 1, { ...CONNECT, code: "5" });
  metrics.count("replies_total", 2, { ...CONNECT, code: "0" });
  metrics.count("replies_total", 4, {
    protocol: "socks5",
    command: "bind",
    code: "0",
  });
  metrics.count("udp_dropped_total", 1, "fragment");
  assert.equal(metrics.get("replies_total", "0"), 7);
  assert.equal(metrics.get("replies_total", { ...CONNECT, code: "0" }), 3);
  assert.equal(metrics.get("replies_total", "5"), 1);
  assert.equal(metrics.get("replies_total", "2"), 0);
  assert.equal(metrics.get("replies_total"), 8);
  assert.equal(metrics.get("udp_dropped_total", "fragment"), 1);
  assert.equal(metrics.get("udp_dropped_total", { reason: "fragment" }), 1);
});

Deno.test("MemoryMetrics.count() throws a TypeError when a string label is given to an unlabelled metric", () => {
  assert.throws(
    () => new MemoryMetrics().count("sessions_total", 1, "x"),
    TypeError,
  );
});

Deno.test("MemoryMetrics.adjust() moves a gauge when given positive and negative deltas", () => {
  const metrics = new MemoryMetrics();
  metrics.adjust("sessions_active", 1);
  metrics.adjust("sessions_active", 1);
  metrics.adjust("sessions_active", -1);
  metrics.adjust("udp_associations_active", 1);
  metrics.adjust("udp_associations_active", -1);
  assert.equal(metrics.get("sessions_active"), 1);
  assert.equal(metrics.get("udp_associations_active"), 0);
});

Deno.test("MemoryMetrics caps the user label when more users than maxUserLabels appear", () => {
  const metrics = new MemoryMetrics({ maxUserLabels: 2 });
  for (const user of ["alice", "bob", "carol", "dave", "alice", ""]) {
    metrics.count("requests_total", 1, { ...CONNECT, user });
  }
  const users = metrics.series("requests_total").map((r) => [
    r.labels.user,
    r.value,
  ]);
  assert.deepStrictEqual(users, [
    ["alice", 2],
    ["bob", 1],
    [OTHER_USERS, 2],
    ["", 1],
  ]);
});

Deno.test("MemoryMetrics.observe() fills cumulative buckets, sum and count", () => {
  const metrics = new MemoryMetrics();
  metrics.observe("connect_duration_seconds", 0.003);
  metrics.observe("connect_duration_seconds", 0.2);
  metrics.observe("connect_duration_seconds", 30);
  const h = metrics.histogram("connect_duration_seconds");
  const buckets = METRIC_FAMILIES.connect_duration_seconds.buckets!;
  assert.deepStrictEqual(
    h.counts,
    buckets.map((le) => (le >= 0.003 ? 1 : 0) + (le >= 0.2 ? 1 : 0)),
  );
  assert.equal(h.count, 3);
  assert.ok(Math.abs(h.sum - 30.203) < 1e-9);
  const text = metrics.toPrometheus();
  assert.match(
    text,
    /^socks5_connect_duration_seconds_bucket\{le="0\.005"\} 1$/m,
  );
  assert.match(
    text,
    /^socks5_connect_duration_seconds_bucket\{le="0\.25"\} 2$/m,
  );
  assert.match(text, /^socks5_connect_duration_seconds_bucket\{le="10"\} 2$/m);
  assert.match(
    text,
    /^socks5_connect_duration_seconds_bucket\{le="\+Inf"\} 3$/m,
  );
  assert.match(text, /^socks5_connect_duration_seconds_count 3$/m);
});

Deno.test("MemoryMetrics.dump() adds traffic in flight and merge() sums dumps", () => {
  const a = new MemoryMetrics();
  const b = new MemoryMetrics();
  const up = { direction: "up", ...CONNECT, user: "alice" };
  a.count("relayed_bytes_total", 100, up);
  a.adjust("sessions_active", 1);
  b.adjust("sessions_active", 2);
  b.observe("session_duration_seconds", 2);
  const total = new MemoryMetrics();
  total.merge(a.dump([{ ...CONNECT, user: "alice", up: 5, down: 7 }]));
  total.merge(structuredClone(b.dump()));
  assert.equal(total.get("relayed_bytes_total", up), 105);
  assert.equal(
    total.get("relayed_bytes_total", { direction: "down", user: "alice" }),
    7,
  );
  assert.equal(total.get("sessions_active"), 3);
  assert.equal(total.histogram("session_duration_seconds").count, 1);
  // The dump is a copy: the in-flight bytes are not kept.
  assert.equal(a.get("relayed_bytes_total", up), 100);
});

Deno.test("MemoryMetrics.toPrometheus() writes exact text when counters, labels and gauges are set", () => {
  const metrics = new MemoryMetrics();
  metrics.count("sessions_total", 7);
  metrics.count("replies_total", 5, { ...CONNECT, code: "0" });
  metrics.count("udp_dropped_total", 4, "fragment");
  metrics.count("relayed_bytes_total", 9, {
    direction: "down",
    ...CONNECT,
    user: "",
  });
  metrics.adjust("sessions_active", 2);
  const text = metrics.toPrometheus();
  const blocks = [
    "# HELP socks5_sessions_total Client connections accepted.\n" +
    "# TYPE socks5_sessions_total counter\n" +
    "socks5_sessions_total 7\n",
    "# TYPE socks5_replies_total counter\n" +
    'socks5_replies_total{protocol="socks5",command="connect",code="0"} 5\n',
    "# HELP socks5_udp_dropped_total UDP datagrams dropped, by reason.\n" +
    "# TYPE socks5_udp_dropped_total counter\n" +
    'socks5_udp_dropped_total{reason="fragment"} 4\n',
    "# TYPE socks5_relayed_bytes_total counter\n" +
    'socks5_relayed_bytes_total{direction="down",protocol="socks5",command="connect",user=""} 9\n',
    "# HELP socks5_sessions_active Sessions in progress.\n" +
    "# TYPE socks5_sessions_active gauge\n" +
    "socks5_sessions_active 2\n",
    "# TYPE socks5_udp_associations_active gauge\n" +
    "socks5_udp_associations_active 0\n",
  ];
  for (const block of blocks) {
    assert.ok(text.includes(block), `missing:\n${block}\nin:\n${text}`);
  }
  assert.ok(text.endsWith("\n"));
});

Deno.test("MemoryMetrics.toPrometheus() writes every family once, with HELP and TYPE, when nothing is set", () => {
  const text = new MemoryMetrics().toPrometheus();
  const names = [
    ...text.matchAll(/^# TYPE socks5_(\w+) (counter|gauge|histogram)$/gm),
  ];
  assert.deepStrictEqual(
    names.map((m) => m[1]),
    Object.keys(METRIC_FAMILIES),
  );
  for (const [, name, type] of names) {
    assert.equal(
      type,
      name!.endsWith("_total")
        ? "counter"
        : name!.endsWith("_seconds")
        ? "histogram"
        : "gauge",
    );
  }
  // Every line is a comment or a sample in the exposition grammar.
  for (const line of text.trimEnd().split("\n")) {
    assert.match(
      line,
      /^(# (HELP|TYPE) socks5_\w+ .+|socks5_\w+(\{\w+="[^"\n]*"(,\w+="[^"\n]*")*\})? -?[\d.e+-]+)$/,
    );
  }
  // Unlabelled series are there from the start, at 0.
  assert.match(text, /^socks5_auth_failures_total 0$/m);
  assert.match(text, /^socks5_session_duration_seconds_count 0$/m);
});

Deno.test("formatLabels() escapes a label value when it has quotes, backslashes and newlines", () => {
  assert.equal(
    formatLabels({ user: 'bad "x"\\\nz' }),
    '{user="bad \\"x\\"\\\\\\nz"}',
  );
  assert.equal(formatLabels({}), "");
});
