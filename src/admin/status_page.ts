/**
 * The live status page served at `/`: one self-contained HTML document (no
 * outside assets) whose inline script polls `/api/status` every second and
 * redraws the tables and the throughput chart (inline SVG).
 *
 * @module
 */

/** The page. Element ids are the contract its tests read. */
export const STATUS_PAGE_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>socks5-deno status</title>
<style>
  :root { --up: #2563eb; --down: #16a34a; --muted: #6b7280; --line: #e5e7eb; }
  * { box-sizing: border-box; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #111827; background: #f9fafb; }
  header { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: baseline;
    padding: .8rem 1.2rem; background: #111827; color: #f9fafb; }
  header h1 { font-size: 1.1rem; margin: 0; }
  header span { color: #d1d5db; }
  #state.draining { color: #fca5a5; font-weight: 600; }
  main { padding: 1rem 1.2rem; display: grid; gap: 1rem;
    grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
  section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: .95rem; margin: 0 0 .5rem; }
  .cards { display: flex; gap: 2rem; flex-wrap: wrap; }
  .cards div b { display: block; font-size: 1.4rem; }
  .cards div span { color: var(--muted); font-size: .8rem; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { color: var(--muted); font-weight: 500; font-size: .8rem; }
  td.n, th.n { text-align: right; }
  .empty { color: var(--muted); }
  svg { width: 100%; height: 180px; display: block; }
  .legend span { margin-right: 1rem; }
  .legend i { display: inline-block; width: .8rem; height: .2rem; vertical-align: middle; margin-right: .3rem; }
</style>
</head>
<body>
<header>
  <h1>socks5-deno</h1>
  <span id="build"></span>
  <span>config generation <b id="config-generation">?</b>, loaded <b id="config-loaded">?</b></span>
  <span id="state">connecting…</span>
  <span>updated <b id="updated">never</b></span>
</header>
<main>
  <section class="wide">
    <div class="cards">
      <div><b id="active">0</b><span>sessions now</span></div>
      <div><b id="total-sessions">0</b><span>sessions since start</span></div>
      <div><b id="bytes-up">0 B</b><span>relayed up</span></div>
      <div><b id="bytes-down">0 B</b><span>relayed down</span></div>
    </div>
  </section>
  <section class="wide">
    <h2>Throughput, last minutes</h2>
    <svg id="throughput" viewBox="0 0 800 180" preserveAspectRatio="none" role="img" aria-label="throughput chart">
      <line x1="0" y1="179" x2="800" y2="179" stroke="#e5e7eb"/>
      <polygon id="down-area" fill="var(--down)" fill-opacity="0.12" points=""/>
      <polyline id="down-line" fill="none" stroke="var(--down)" stroke-width="2" vector-effect="non-scaling-stroke" points=""/>
      <polyline id="up-line" fill="none" stroke="var(--up)" stroke-width="2" stroke-dasharray="6 4" vector-effect="non-scaling-stroke" points=""/>
    </svg>
    <div class="legend"><span><i style="background:var(--up)"></i>up</span><span><i style="background:var(--down)"></i>down</span><span id="chart-max"></span> <span id="chart-span" class="empty"></span></div>
  </section>
  <section class="wide">
    <h2>Active sessions</h2>
    <table id="sessions"><thead><tr><th>client</th><th>user</th><th>protocol</th><th>command</th><th>destination</th><th class="n">up</th><th class="n">down</th><th class="n">age</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Users</h2>
    <table id="users"><thead><tr><th>user</th><th class="n">active</th><th class="n">requests</th><th class="n">up</th><th class="n">down</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Replies</h2>
    <table id="replies"><thead><tr><th>protocol</th><th>code</th><th>meaning</th><th class="n">count</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script>
"use strict";
const SOCKS5_REPLIES = ["succeeded", "general failure", "not allowed by ruleset",
  "network unreachable", "host unreachable", "connection refused", "TTL expired",
  "command not supported", "address type not supported"];
const $ = (id) => document.getElementById(id);
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(Math.round(n)) : n.toFixed(1)) + " " + units[i];
}
function age(seconds) {
  if (seconds < 60) return Math.floor(seconds) + "s";
  if (seconds < 3600) return Math.floor(seconds / 60) + "m " + Math.floor(seconds % 60) + "s";
  return Math.floor(seconds / 3600) + "h " + Math.floor(seconds % 3600 / 60) + "m";
}
function fill(table, rows, empty) {
  const body = $(table).tBodies[0];
  body.replaceChildren();
  if (rows.length === 0) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = $(table).tHead.rows[0].cells.length;
    cell.className = "empty";
    cell.textContent = empty;
    return;
  }
  for (const row of rows) {
    const tr = body.insertRow();
    for (const [key, value, numeric] of row.cells) {
      const td = tr.insertCell();
      td.textContent = value;
      td.dataset.key = key;
      if (numeric) td.className = "n";
    }
    for (const [k, v] of Object.entries(row.data ?? {})) tr.dataset[k] = v;
  }
}
function chart(points) {
  const max = Math.max(1, ...points.flatMap((p) => [p.up, p.down]));
  const n = Math.max(points.length - 1, 1);
  const line = (key) => points.map((p, i) =>
    (i / n * 800).toFixed(1) + "," + (179 - p[key] / max * 160).toFixed(1)).join(" ");
  $("up-line").setAttribute("points", line("up"));
  $("down-line").setAttribute("points", line("down"));
  $("down-area").setAttribute("points",
    points.length > 1 ? "0,179 " + line("down") + " 800,179" : "");
  $("chart-max").textContent = "peak " + bytes(max) + "/s";
  const span = points.length > 1 ? (points.at(-1).t - points[0].t) / 1000 : 0;
  $("chart-span").textContent = "(" + points.length + " points over " + age(span) + ")";
}
function render(s) {
  $("build").textContent = s.build.version + " on " + s.build.runtime + " " + s.build.runtimeVersion;
  $("config-generation").textContent = String(s.config.generation);
  $("config-loaded").textContent = new Date(s.config.loadedAt).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  $("state").textContent = s.draining ? "draining" : "ready";
  $("state").className = s.draining ? "draining" : "";
  $("updated").textContent = new Date(s.now).toISOString().slice(11, 19) + " UTC";
  $("active").textContent = String(s.sessions.length);
  $("total-sessions").textContent = String(s.totals.sessions);
  $("bytes-up").textContent = bytes(s.totals.bytesUp);
  $("bytes-down").textContent = bytes(s.totals.bytesDown);
  fill("sessions", s.sessions.map((x) => ({
    data: { sessionId: String(x.id) },
    cells: [["client", x.client], ["user", x.user ?? "—"], ["protocol", x.protocol],
      ["command", x.command ?? x.stage], ["destination", x.destination ?? "—"],
      ["up", bytes(x.bytesUp), true], ["down", bytes(x.bytesDown), true],
      ["age", age(x.ageSeconds), true]],
  })), "no sessions");
  fill("users", s.users.map((u) => ({
    data: { user: u.user },
    cells: [["user", u.user === "" ? "(no auth)" : u.user], ["active", String(u.active), true],
      ["requests", String(u.requests), true], ["up", bytes(u.bytesUp), true],
      ["down", bytes(u.bytesDown), true]],
  })), "no traffic yet");
  fill("replies", s.replies.map((r) => ({
    data: { code: r.code },
    cells: [["protocol", r.protocol], ["code", r.code],
      ["meaning", r.protocol === "socks5" ? SOCKS5_REPLIES[Number(r.code)] ?? "" : ""],
      ["count", String(r.count), true]],
  })), "no replies yet");
  chart(s.throughput);
  document.body.dataset.updated = String(s.now);
}
async function poll() {
  try {
    const response = await fetch("api/status", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
  } catch (error) {
    $("state").textContent = "unreachable (" + error.message + ")";
    $("state").className = "draining";
  }
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
`;
