/**
 * The shared waiting helpers fail when they must: a wait that never failed
 * would let every test built on it pass without its condition.
 *
 * @module
 */

import assert from "node:assert/strict";
import { eventually, settleWithin, sleep, within } from "./wait.ts";

Deno.test("eventually() returns once an async check holds and polls no more", async () => {
  let polls = 0;
  await eventually(() => Promise.resolve(++polls === 3), "third poll");
  assert.equal(polls, 3);
});

Deno.test("eventually() fails at its bound, naming the condition and the last error", async () => {
  let polls = 0;
  await assert.rejects(
    eventually(
      () => {
        polls++;
        throw new Error("still starting");
      },
      () => `server up after ${polls} polls`,
      { ms: 50, every: 10 },
    ),
    (error: Error) => {
      assert.match(error.message, /^server up after \d+ polls: not true/);
      assert.match(error.message, /last error: Error: still starting/);
      return true;
    },
  );
  // Bounded in count: at most ms / every + 1 polls.
  assert.ok(polls >= 2 && polls <= 6, `${polls} polls`);
});

Deno.test("within() rejects a promise that hangs and passes one that settles", async () => {
  const never = new Promise<never>(() => {});
  await assert.rejects(
    within(never, 20, "the hang"),
    /the hang: still pending after 20 ms/,
  );
  assert.equal(await within(Promise.resolve(7), 1_000, "a value"), 7);
});

Deno.test("settleWithin() gives undefined on timeout, the value otherwise", async () => {
  assert.equal(await settleWithin(new Promise(() => {}), 20), undefined);
  assert.equal(await settleWithin(sleep(1).then(() => "done"), 1_000), "done");
});

Deno.test("sleep() lets at least the given time pass", async () => {
  const started = performance.now();
  await sleep(30);
  // A lower bound only: a loaded machine may take longer.
  assert.ok(performance.now() - started >= 29);
});
