import assert from "node:assert/strict";
import { ThroughputHistory } from "../../src/admin/throughput_history.ts";

Deno.test("ThroughputHistory.points() turns total samples into per-second rates", () => {
  const history = new ThroughputHistory(3);
  assert.deepStrictEqual(history.points(), []);
  history.record(1_000, 0, 0);
  history.record(3_000, 4_000, 1_000);
  history.record(4_000, 4_500, 1_000);
  assert.deepStrictEqual(history.points(), [
    { t: 3_000, up: 2_000, down: 500 },
    { t: 4_000, up: 500, down: 0 },
  ]);
});

Deno.test("ThroughputHistory keeps the newest samples only when full", () => {
  const history = new ThroughputHistory(2);
  history.record(0, 0, 0);
  history.record(1_000, 100, 0);
  history.record(2_000, 100, 300);
  assert.deepStrictEqual(history.points(), [{ t: 2_000, up: 0, down: 300 }]);
});

Deno.test("ThroughputHistory.points() never goes negative when a total drops (a worker gone)", () => {
  const history = new ThroughputHistory(3);
  history.record(0, 500, 500);
  history.record(1_000, 200, 600);
  assert.deepStrictEqual(history.points(), [{ t: 1_000, up: 0, down: 100 }]);
});

Deno.test("ThroughputHistory() throws a RangeError when capacity is below 2", () => {
  assert.throws(() => new ThroughputHistory(1), RangeError);
});
