import assert from "node:assert/strict";
import { SharedCounters } from "../../src/policy/shared_counters.ts";

Deno.test("SharedCounters over the same buffer share every count (as workers do)", () => {
  const a = SharedCounters.create(64);
  const b = new SharedCounters(a.buffer);
  const slot = a.slot("u:alice");
  assert.equal(b.slot("u:alice"), slot);
  assert.notEqual(a.slot("u:bob"), slot);
  assert.equal(a.incrementBelow(slot, 0, 2), true);
  assert.equal(b.incrementBelow(b.slot("u:alice"), 0, 2), true);
  assert.equal(a.incrementBelow(slot, 0, 2), false);
  assert.equal(b.load(slot, 0), 2);
  b.add(slot, 0, -1);
  assert.equal(a.incrementBelow(slot, 0, 2), true);
  // Same clock in both.
  assert.ok(Math.abs(a.tick() - b.tick()) <= 1);
});

Deno.test("SharedCounters keeps distinct keys apart until full, then shares one overflow slot", () => {
  const table = SharedCounters.create(16);
  const slots = new Set<number>();
  for (let i = 0; i < 15; i++) slots.add(table.slot(`c:10.0.0.${i}`));
  assert.equal(slots.size, 15);
  const overflow = table.slot("c:10.0.0.99");
  assert.ok(!slots.has(overflow));
  assert.equal(table.slot("c:10.0.0.100"), overflow);
  // Existing keys still find their own slot.
  for (let i = 0; i < 15; i++) {
    assert.ok(slots.has(table.slot(`c:10.0.0.${i}`)));
  }
});

Deno.test("SharedCounters works across a real Web Worker", async () => {
  const table = SharedCounters.create(64);
  const source = `
    import { SharedCounters } from ${
    JSON.stringify(
      new URL("../../src/policy/shared_counters.ts", import.meta.url).href,
    )
  };
    self.onmessage = (e) => {
      const t = new SharedCounters(e.data);
      const slot = t.slot("u:alice");
      let granted = 0;
      for (let i = 0; i < 1000; i++) if (t.incrementBelow(slot, 0, 1500)) granted++;
      self.postMessage(granted);
    };`;
  const url = URL.createObjectURL(
    new Blob([source], { type: "text/javascript" }),
  );
  const worker = new Worker(url, { type: "module" });
  try {
    const answer = new Promise<number>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
    });
    worker.postMessage(table.buffer);
    const slot = table.slot("u:alice");
    let granted = 0;
    for (let i = 0; i < 1000; i++) {
      if (table.incrementBelow(slot, 0, 1500)) granted++;
    }
    const theirs = await answer;
    assert.equal(granted + theirs, 1500);
    assert.equal(table.load(slot, 0), 1500);
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});
