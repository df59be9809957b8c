import assert from "node:assert/strict";
import { Watchdog, type Watched } from "../../src/core/watchdog.ts";
import { trackTimers } from "../_helpers/timers.ts";
import { sleep } from "../_helpers/wait.ts";

const PERIOD = 5;
const TIMEOUT = 20;

/** A watched item whose expiry the test can await. */
function item(progress: () => number = () => 0) {
  const { promise, resolve } = Promise.withResolvers<number>();
  let expiries = 0;
  const watched: Watched & { expired: Promise<number>; expiries(): number } = {
    progress,
    expire() {
      expiries++;
      resolve(Date.now());
    },
    expired: promise,
    expiries: () => expiries,
  };
  return watched;
}

Deno.test("Watchdog expires an item when it makes no progress for the timeout", async () => {
  using timers = trackTimers();
  const dog = new Watchdog(PERIOD);
  const watched = item();
  const start = Date.now();
  dog.watch(watched, TIMEOUT);
  const expiredAt = await watched.expired;
  assert.ok(expiredAt - start >= TIMEOUT, `${expiredAt - start} ms`);
  assert.equal(watched.expiries(), 1);
  // Nothing is left watched, so the interval has stopped by itself.
  assert.equal(timers.pending(), 0);
});

Deno.test("Watchdog expires each item once when several are watched", async () => {
  using timers = trackTimers();
  const dog = new Watchdog(PERIOD);
  const early = item();
  const late = item();
  dog.watch(early, TIMEOUT);
  dog.watch(late, TIMEOUT * 3);
  const earlyAt = await early.expired;
  const lateAt = await late.expired;
  assert.ok(lateAt >= earlyAt);
  assert.equal(early.expiries(), 1);
  assert.equal(late.expiries(), 1);
  assert.equal(timers.pending(), 0);
});

Deno.test("Watchdog postpones expiry when the item makes progress", async () => {
  using timers = trackTimers();
  const dog = new Watchdog(PERIOD);
  // Progress on each of the first 12 checks: 60 ms, three timeouts' worth.
  const changing = 12;
  let calls = 0;
  const watched = item(() => Math.min(++calls, changing));
  dog.watch(watched, TIMEOUT);
  await watched.expired;
  // watch() reads progress once, then each tick once; the item cannot expire
  // on a tick that saw progress.
  assert.ok(calls > changing, `expired after ${calls} progress reads`);
  assert.equal(watched.expiries(), 1);
  assert.equal(timers.pending(), 0);
});

Deno.test("Watchdog never expires an item when it is unwatched", async () => {
  using timers = trackTimers();
  const dog = new Watchdog(PERIOD);
  const gone = item();
  const kept = item();
  // Same timeout, watched first: if `gone` were still watched it would
  // expire no later than `kept`.
  dog.watch(gone, TIMEOUT);
  dog.watch(kept, TIMEOUT);
  dog.unwatch(gone);
  await kept.expired;
  assert.equal(gone.expiries(), 0);
  assert.equal(kept.expiries(), 1);
  assert.equal(timers.pending(), 0);
});

Deno.test("Watchdog keeps its interval across unwatch() and stops it on the next check", async () => {
  using timers = trackTimers();
  const dog = new Watchdog(PERIOD);
  const first = item();
  dog.watch(first, 10_000);
  dog.unwatch(first);
  // Still armed: a session that follows at once reuses the interval.
  assert.equal(timers.pending(), 1);
  const second = item();
  dog.watch(second, 10_000);
  assert.equal(timers.pending(), 1);
  dog.unwatch(second);
  await sleep(PERIOD * 4);
  assert.equal(timers.pending(), 0);
  assert.equal(first.expiries() + second.expiries(), 0);
});

Deno.test("Watchdog.unwatch() does nothing when the item was never watched", () => {
  using timers = trackTimers();
  const dog = new Watchdog(PERIOD);
  dog.unwatch(item());
  assert.equal(timers.pending(), 0);
});

Deno.test("Watchdog.close() clears the interval when items are still watched", () => {
  using timers = trackTimers();
  const dog = new Watchdog(PERIOD);
  const a = item();
  const b = item();
  dog.watch(a, 10_000);
  dog.watch(b, 10_000);
  assert.equal(timers.pending(), 1);
  dog.close();
  assert.equal(timers.pending(), 0);
  dog.close();
  assert.equal(a.expiries() + b.expiries(), 0);
});

Deno.test("Watchdog.watch() stops watching when the timeout is 0 or not finite", async (t) => {
  for (const timeout of [0, -1, Infinity, NaN]) {
    await t.step(`${timeout}`, async () => {
      using timers = trackTimers();
      const dog = new Watchdog(PERIOD);
      const watched = item();
      dog.watch(watched, timeout);
      assert.equal(timers.pending(), 0);
      // Re-watching with no deadline forgets the earlier one: nothing
      // expires, and the interval stops at its next check.
      dog.watch(watched, 10_000);
      dog.watch(watched, timeout);
      await sleep(PERIOD * 4);
      assert.equal(timers.pending(), 0);
      assert.equal(watched.expiries(), 0);
    });
  }
});

Deno.test("Watchdog keeps watching other items when one is given no deadline", async () => {
  using timers = trackTimers();
  const dog = new Watchdog(PERIOD);
  const never = item();
  const soon = item();
  dog.watch(never, 0);
  dog.watch(soon, TIMEOUT);
  await soon.expired;
  assert.equal(never.expiries(), 0);
  assert.equal(timers.pending(), 0);
});

Deno.test("Watchdog: an item watched by two watchdogs keeps each deadline apart: unwatched in one, it expires once in the other", async () => {
  const first = new Watchdog(PERIOD);
  const second = new Watchdog(PERIOD);
  try {
    const watched = item();
    first.watch(watched, TIMEOUT);
    second.watch(watched, TIMEOUT);
    // Forgotten by the first only: the second still times it out.
    first.unwatch(watched);
    await watched.expired;
    await sleep(PERIOD * 4);
    assert.equal(watched.expiries(), 1);
  } finally {
    first.close();
    second.close();
  }
});
