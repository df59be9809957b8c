import assert from "node:assert/strict";
import {
  renderPeerRatios,
  renderTable,
  type RunRecord,
} from "../../scripts/bench/report.ts";
import { findWorkload } from "../../scripts/bench/workloads.ts";

function _run(
  server: string,
  workload: string,
  figures: {
    mbPerSec?: number;
    connPerSec?: number;
    p99Ms?: number;
    proxyCpuUsPerConn?: number;
  },
): RunRecord {
  const kind = workload.startsWith("cr") ? "cr" : "up";
  return {
    server,
    workload,
    rep: 1,
    result: { kind, windowSecs: 4, errors: 0, ...figures },
  };
}

Deno.test("renderPeerRatios() divides each of ours by each peer, per workload", () => {
  const records = [
    _run("socks5-deno-exe", "up1", { mbPerSec: 300 }),
    _run("microsocks", "up1", { mbPerSec: 100 }),
    _run("socks5-deno-exe", "cr64", { connPerSec: 900, p99Ms: 3 }),
    _run("microsocks", "cr64", { connPerSec: 1000, p99Ms: 2 }),
  ];
  const table = renderPeerRatios(records, {
    ours: ["socks5-deno-exe"],
    peers: ["microsocks"],
    workloads: [findWorkload("up1")!, findWorkload("cr64")!],
    noAuth: new Set(),
  });
  const lines = table.split("\n");
  assert.match(lines[0]!, /socks5-deno-exe ÷ microsocks/);
  assert.match(lines[2]!, /^\| up1 +\| MB\/s +\| +3\.00× \|$/);
  assert.match(lines[3]!, /^\| cr64 +\| conn\/s +\| +0\.90× \|$/);
  assert.match(lines[4]!, /^\| +\| p99 ms +\| +1\.50× \|$/);
  // No CPU figures recorded: the row says so rather than inventing a ratio.
  assert.match(lines[5]!, /^\| +\| CPU µs\/conn +\| +- \|$/);
});

Deno.test("renderTable() shows proxy CPU per connection, the median over runs, with no ratio to direct", () => {
  const records = [
    _run("direct", "cr64", { connPerSec: 9000 }),
    _run("socks5-deno", "cr64", { connPerSec: 3000, proxyCpuUsPerConn: 180 }),
    { ..._run("socks5-deno", "cr64", { proxyCpuUsPerConn: 240 }), rep: 2 },
    { ..._run("socks5-deno", "cr64", { proxyCpuUsPerConn: 200 }), rep: 3 },
    _run("microsocks", "cr64", { connPerSec: 4000, proxyCpuUsPerConn: 100 }),
  ];
  const table = renderTable(records, {
    servers: ["direct", "socks5-deno"],
    workloads: [findWorkload("cr64")!],
    noAuth: new Set(),
  });
  const row = table.split("\n").find((l) => l.includes("CPU µs/conn"));
  assert.ok(row, table);
  // Cells after the metric: direct, CPU gen, socks5-deno, ×direct, CPU.
  const cells = row.split("|").map((c) => c.trim());
  assert.equal(cells[2], "CPU µs/conn");
  assert.deepEqual(cells.slice(3, 8), ["-", "", "200", "", ""]);
  const ratios = renderPeerRatios(records, {
    ours: ["socks5-deno"],
    peers: ["microsocks"],
    workloads: [findWorkload("cr64")!],
    noAuth: new Set(),
  });
  assert.match(ratios, /\| +\| CPU µs\/conn +\| +2\.00× \|/);
});

Deno.test("renderPeerRatios() is empty without a peer and n/a where a peer has no auth", () => {
  const w = [findWorkload("cr64auth")!];
  assert.equal(
    renderPeerRatios([], {
      ours: ["socks5-deno"],
      peers: [],
      workloads: w,
      noAuth: new Set(),
    }),
    "",
  );
  const table = renderPeerRatios([], {
    ours: ["socks5-deno"],
    peers: ["danted"],
    workloads: w,
    noAuth: new Set(["danted"]),
  });
  assert.match(table.split("\n")[2]!, /n\/a/);
});
