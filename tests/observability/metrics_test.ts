import assert from "node:assert/strict";
import { MemoryMetrics } from "../../src/observability/metrics.ts";

Deno.test("MemoryMetrics.get() returns 0 when a metric was never touched", () => {
  const metrics = new MemoryMetrics();
  assert.equal(metrics.get("sessions_total"), 0);
  assert.equal(metrics.get("replies_total", "0"), 0);
  assert.equal(metrics.get("sessions_active"), 0);
  assert.deepStrictEqual(metrics.snapshot(), {});
});

Deno.test("MemoryMetrics.count() adds 1 or the amount when counting", () => {
  const metrics = new MemoryMetrics();
  metrics.count("sessions_total");
  metrics.count("sessions_total");
  metrics.count("bytes_up_total", 1500);
  metrics.count("bytes_up_total", 0);
  metrics.count("bytes_up_total", 20);
  assert.equal(metrics.get("sessions_total"), 2);
  assert.equal(metrics.get("bytes_up_total"), 1520);
});

Deno.test("MemoryMetrics.count() keeps labels apart when given a label", () => {
  const metrics = new MemoryMetrics();
  metrics.count("replies_total", 1, "0");
  metrics.count("replies_total", 1, "5");
  metrics.count("replies_total", 2, "0");
  metrics.count("udp_dropped_total", 1, "fragmented");
  assert.equal(metrics.get("replies_total", "0"), 3);
  assert.equal(metrics.get("replies_total", "5"), 1);
  assert.equal(metrics.get("replies_total", "2"), 0);
  assert.equal(metrics.get("replies_total"), 0);
  assert.equal(metrics.get("udp_dropped_total", "fragmented"), 1);
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

Deno.test("MemoryMetrics.snapshot() keys values by name and label when some are labelled", () => {
  const metrics = new MemoryMetrics();
  metrics.count("sessions_total", 3);
  metrics.count("replies_total", 2, "0");
  metrics.count("replies_total", 1, "2");
  metrics.adjust("sessions_active", 1);
  const snapshot = metrics.snapshot();
  assert.deepStrictEqual(snapshot, {
    "sessions_total": 3,
    "replies_total{0}": 2,
    "replies_total{2}": 1,
    "sessions_active": 1,
  });
  // A copy: changing it changes nothing.
  snapshot.sessions_total = 99;
  assert.equal(metrics.get("sessions_total"), 3);
});

Deno.test("MemoryMetrics.toPrometheus() writes exact text when counters, labels and gauges are set", () => {
  const metrics = new MemoryMetrics();
  metrics.count("sessions_total", 7);
  metrics.count("replies_total", 5, "0");
  metrics.count("replies_total", 1, "2");
  metrics.count("udp_dropped_total", 4, "fragmented");
  metrics.adjust("sessions_active", 2);
  const text = metrics.toPrometheus();
  const blocks = [
    "# HELP socks5_sessions_total Client connections accepted.\n" +
    "# TYPE socks5_sessions_total counter\n" +
    "socks5_sessions_total 7\n",
    "# HELP socks5_auth_failures_total Failed username/password authentications.\n" +
    "# TYPE socks5_auth_failures_total counter\n" +
    "socks5_auth_failures_total 0\n",
    "# HELP socks5_replies_total Replies sent, by REP code.\n" +
    "# TYPE socks5_replies_total counter\n" +
    'socks5_replies_total{rep="0"} 5\n' +
    'socks5_replies_total{rep="2"} 1\n',
    "# HELP socks5_udp_dropped_total UDP datagrams dropped, by reason.\n" +
    "# TYPE socks5_udp_dropped_total counter\n" +
    'socks5_udp_dropped_total{reason="fragmented"} 4\n',
    "# HELP socks5_sessions_active Sessions in progress.\n" +
    "# TYPE socks5_sessions_active gauge\n" +
    "socks5_sessions_active 2\n",
    "# HELP socks5_udp_associations_active UDP associations in progress.\n" +
    "# TYPE socks5_udp_associations_active gauge\n" +
    "socks5_udp_associations_active 0\n",
  ];
  for (const block of blocks) {
    assert.ok(text.includes(block), `missing:\n${block}\nin:\n${text}`);
  }
  assert.ok(text.endsWith("\n"));
});

Deno.test("MemoryMetrics.toPrometheus() writes only HELP and TYPE when a labelled counter is untouched", () => {
  const text = new MemoryMetrics().toPrometheus();
  assert.ok(
    text.includes(
      "# HELP socks5_replies_total Replies sent, by REP code.\n" +
        "# TYPE socks5_replies_total counter\n" +
        "# HELP socks5_bytes_up_total ",
    ),
    text,
  );
  assert.doesNotMatch(text, /^socks5_replies_total/m);
  assert.doesNotMatch(text, /^socks5_udp_dropped_total/m);
});

Deno.test("MemoryMetrics.toPrometheus() writes every metric once, with HELP and TYPE, when nothing is set", () => {
  const text = new MemoryMetrics().toPrometheus();
  const names = [...text.matchAll(/^# TYPE socks5_(\w+) (counter|gauge)$/gm)];
  assert.deepStrictEqual(names.map((m) => m[1]), [
    "sessions_total",
    "sessions_rejected_total",
    "handshake_failures_total",
    "auth_failures_total",
    "replies_total",
    "bytes_up_total",
    "bytes_down_total",
    "udp_datagrams_up_total",
    "udp_datagrams_down_total",
    "udp_dropped_total",
    "accept_errors_total",
    "accept_pauses_total",
    "sessions_active",
    "udp_associations_active",
  ]);
  for (const [, name, type] of names) {
    assert.equal(type, name!.endsWith("_total") ? "counter" : "gauge");
  }
  // Every line is a comment or a sample in the exposition grammar.
  for (const line of text.trimEnd().split("\n")) {
    assert.match(
      line,
      /^(# (HELP|TYPE) socks5_\w+ .+|socks5_\w+(\{\w+="[^"\n]*"\})? -?\d+)$/,
    );
  }
});

Deno.test("MemoryMetrics.toPrometheus() escapes a label value when it has quotes", () => {
  const metrics = new MemoryMetrics();
  metrics.count("udp_dropped_total", 1, 'bad "x"\\');
  assert.ok(
    metrics.toPrometheus().includes(
      'socks5_udp_dropped_total{reason="bad \\"x\\"\\\\"} 1\n',
    ),
  );
});
