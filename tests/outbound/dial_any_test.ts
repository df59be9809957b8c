import assert from "node:assert/strict";
import { dialAny } from "../../src/outbound/dial_any.ts";
import type { Connection } from "../../src/runtime/transport.ts";
import { trackTimers } from "../_helpers/timers.ts";

const DELAY = 20;

/** A connection that only records being closed. */
interface FakeConn {
  hostname: string;
  closed: boolean;
  /** Resolves when `close()` is called. */
  whenClosed: Promise<void>;
}

function fakeConn(hostname: string): FakeConn & { close(): void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return {
    hostname,
    closed: false,
    whenClosed: promise,
    close() {
      this.closed = true;
      resolve();
    },
  };
}

/** One call of the fake dialer, settled by the test. */
interface Attempt {
  hostname: string;
  port: number;
  signal: AbortSignal;
  /** `performance.now()` when the attempt started. */
  at: number;
  conn: FakeConn & { close(): void };
  succeed(): void;
  fail(error: unknown): void;
}

/**
 * A dialer whose attempts stay pending until the test settles them. Like
 * `Deno.connect`, an attempt rejects with the signal's reason when aborted,
 * unless `ignoreAbort` is set.
 */
class FakeDialer {
  readonly attempts: Attempt[] = [];
  #waiters: Array<{ count: number; resolve: () => void }> = [];
  #ignoreAbort: boolean;
  #plan: (hostname: string) => "pending" | "succeed" | Error;

  constructor(
    options: {
      ignoreAbort?: boolean;
      plan?: (hostname: string) => "pending" | "succeed" | Error;
    } = {},
  ) {
    this.#ignoreAbort = options.ignoreAbort ?? false;
    this.#plan = options.plan ?? (() => "pending");
  }

  readonly dial = (hostname: string, port: number, signal: AbortSignal) => {
    const { promise, resolve, reject } = Promise.withResolvers<Connection>();
    const conn = fakeConn(hostname);
    const attempt: Attempt = {
      hostname,
      port,
      signal,
      at: performance.now(),
      conn,
      succeed: () => resolve(conn as unknown as Connection),
      fail: reject,
    };
    if (!this.#ignoreAbort) {
      signal.addEventListener("abort", () => reject(signal.reason), {
        once: true,
      });
    }
    this.attempts.push(attempt);
    for (const waiter of this.#waiters) {
      if (this.attempts.length >= waiter.count) waiter.resolve();
    }
    const plan = this.#plan(hostname);
    if (plan === "succeed") attempt.succeed();
    else if (plan instanceof Error) attempt.fail(plan);
    return promise;
  };

  /** Resolves once `count` attempts have started. */
  started(count: number): Promise<Attempt> {
    if (this.attempts.length >= count) {
      return Promise.resolve(this.attempts[count - 1]!);
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push({ count, resolve });
    return promise.then(() => this.attempts[count - 1]!);
  }

  hostnames(): string[] {
    return this.attempts.map((a) => a.hostname);
  }
}

function refused(hostname: string): Error {
  return new Deno.errors.ConnectionRefused(`Refused by ${hostname}`);
}

Deno.test("dialAny() dials directly when given one address", async () => {
  using timers = trackTimers();
  const dialer = new FakeDialer({ plan: () => "succeed" });
  const signal = new AbortController().signal;
  const conn = await dialAny(dialer.dial, ["192.0.2.1"], 80, { signal });
  assert.equal((conn as unknown as FakeConn).hostname, "192.0.2.1");
  assert.equal(dialer.attempts.length, 1);
  assert.equal(dialer.attempts[0]!.port, 80);
  // The caller's own signal goes to the dialer.
  assert.equal(dialer.attempts[0]!.signal, signal);
  assert.equal(timers.pending(), 0);
});

Deno.test("dialAny() rejects with RangeError when given no addresses", async () => {
  using timers = trackTimers();
  await assert.rejects(
    dialAny(new FakeDialer().dial, [], 80, {
      signal: new AbortController().signal,
    }),
    { name: "RangeError", message: "No addresses to dial" },
  );
  assert.equal(timers.pending(), 0);
});

Deno.test("dialAny() returns the first success and aborts the others when one attempt wins", async () => {
  using timers = trackTimers();
  const dialer = new FakeDialer();
  const result = dialAny(
    dialer.dial,
    ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
    443,
    {
      signal: new AbortController().signal,
      attemptDelayMs: DELAY,
    },
  );
  const first = await dialer.started(1);
  const second = await dialer.started(2);
  second.succeed();
  const conn = await result;
  assert.equal(conn as unknown, second.conn);
  assert.equal(first.signal.aborted, true);
  assert.equal(second.signal.aborted, false);
  assert.equal(second.conn.closed, false);
  // The third address is never tried.
  assert.deepStrictEqual(dialer.hostnames(), ["192.0.2.1", "192.0.2.2"]);
  assert.ok(dialer.attempts.every((a) => a.port === 443));
  assert.equal(timers.pending(), 0);
});

Deno.test("dialAny() closes a losing connection when it succeeds after the winner", async () => {
  using timers = trackTimers();
  const dialer = new FakeDialer({ ignoreAbort: true });
  const result = dialAny(dialer.dial, ["2001:db8::1", "192.0.2.1"], 80, {
    signal: new AbortController().signal,
    attemptDelayMs: DELAY,
  });
  const first = await dialer.started(1);
  const second = await dialer.started(2);
  second.succeed();
  assert.equal(await result as unknown, second.conn);
  assert.equal(first.signal.aborted, true);
  first.succeed();
  await first.conn.whenClosed;
  assert.equal(first.conn.closed, true);
  assert.equal(second.conn.closed, false);
  assert.equal(timers.pending(), 0);
});

Deno.test("dialAny() interleaves families when given several addresses of each", async (t) => {
  using timers = trackTimers();
  const cases: Array<[string, string[], string[]]> = [
    [
      "IPv6 first",
      ["2001:db8::1", "2001:db8::2", "2001:db8::3", "192.0.2.1"],
      ["2001:db8::1", "192.0.2.1", "2001:db8::2", "2001:db8::3"],
    ],
    [
      "IPv4 first",
      ["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"],
      ["192.0.2.1", "2001:db8::1", "192.0.2.2", "2001:db8::2"],
    ],
    [
      "one family",
      ["192.0.2.3", "192.0.2.1", "192.0.2.2"],
      ["192.0.2.3", "192.0.2.1", "192.0.2.2"],
    ],
  ];
  for (const [name, addresses, order] of cases) {
    await t.step(name, async () => {
      const dialer = new FakeDialer({ plan: refused });
      await assert.rejects(
        dialAny(dialer.dial, addresses, 80, {
          signal: new AbortController().signal,
          attemptDelayMs: 10_000,
        }),
      );
      assert.deepStrictEqual(dialer.hostnames(), order);
    });
  }
  assert.equal(timers.pending(), 0);
});

Deno.test("dialAny() starts the next attempt after the attempt delay when one is pending", async () => {
  using timers = trackTimers();
  const dialer = new FakeDialer();
  const result = dialAny(
    dialer.dial,
    ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
    80,
    {
      signal: new AbortController().signal,
      attemptDelayMs: DELAY,
    },
  );
  const first = await dialer.started(1);
  assert.equal(dialer.attempts.length, 1);
  assert.equal(timers.pending(), 1);
  const second = await dialer.started(2);
  const third = await dialer.started(3);
  // Timers may fire up to a millisecond early by the clock's rounding.
  assert.ok(second.at - first.at >= DELAY - 1, `${second.at - first.at} ms`);
  assert.ok(third.at - second.at >= DELAY - 1, `${third.at - second.at} ms`);
  third.succeed();
  assert.equal(await result as unknown, third.conn);
  assert.equal(first.signal.aborted, true);
  assert.equal(second.signal.aborted, true);
  assert.equal(timers.pending(), 0);
});

Deno.test("dialAny() starts the next attempt at once when the pending one fails", async () => {
  using timers = trackTimers();
  const dialer = new FakeDialer();
  const began = performance.now();
  const result = dialAny(
    dialer.dial,
    ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
    80,
    {
      signal: new AbortController().signal,
      attemptDelayMs: 5_000,
    },
  );
  (await dialer.started(1)).fail(refused("192.0.2.1"));
  (await dialer.started(2)).fail(refused("192.0.2.2"));
  const third = await dialer.started(3);
  third.succeed();
  assert.equal(await result as unknown, third.conn);
  assert.ok(performance.now() - began < 1_000);
  assert.equal(timers.pending(), 0);
});

Deno.test("dialAny() waits out the delay when an older attempt fails while a newer one is pending", async () => {
  using timers = trackTimers();
  const dialer = new FakeDialer();
  const result = dialAny(
    dialer.dial,
    ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
    80,
    {
      signal: new AbortController().signal,
      attemptDelayMs: DELAY,
    },
  );
  const first = await dialer.started(1);
  const second = await dialer.started(2);
  first.fail(refused("192.0.2.1"));
  const third = await dialer.started(3);
  assert.ok(third.at - second.at >= DELAY - 1, `${third.at - second.at} ms`);
  second.succeed();
  assert.equal(await result as unknown, second.conn);
  assert.equal(third.signal.aborted, true);
  assert.equal(timers.pending(), 0);
});

Deno.test("dialAny() rejects with the first address's error when every attempt fails", async (t) => {
  using timers = trackTimers();
  await t.step("failing in order", async () => {
    const dialer = new FakeDialer({ plan: refused });
    await assert.rejects(
      dialAny(dialer.dial, ["2001:db8::1", "192.0.2.1", "2001:db8::2"], 80, {
        signal: new AbortController().signal,
        attemptDelayMs: DELAY,
      }),
      { name: "ConnectionRefused", message: "Refused by 2001:db8::1" },
    );
    assert.equal(dialer.attempts.length, 3);
  });
  await t.step("the first address failing last", async () => {
    const dialer = new FakeDialer();
    const result = dialAny(dialer.dial, ["192.0.2.1", "192.0.2.2"], 80, {
      signal: new AbortController().signal,
      attemptDelayMs: DELAY,
    });
    const first = await dialer.started(1);
    const second = await dialer.started(2);
    const timeout = new Deno.errors.TimedOut("Timed out");
    second.fail(refused("192.0.2.2"));
    first.fail(timeout);
    await assert.rejects(result, (error) => error === timeout);
  });
  assert.equal(timers.pending(), 0);
});

Deno.test("dialAny() rejects with the signal's reason when aborted", async (t) => {
  using timers = trackTimers();
  await t.step("while attempts are pending", async () => {
    const dialer = new FakeDialer();
    const controller = new AbortController();
    const result = dialAny(
      dialer.dial,
      ["192.0.2.1", "2001:db8::1", "192.0.2.2"],
      80,
      {
        signal: controller.signal,
        attemptDelayMs: DELAY,
      },
    );
    await dialer.started(2);
    const reason = new DOMException("Session closed", "AbortError");
    controller.abort(reason);
    await assert.rejects(result, (error) => error === reason);
    assert.equal(dialer.attempts.length, 2);
    assert.ok(dialer.attempts.every((a) => a.signal.aborted));
    assert.ok(dialer.attempts.every((a) => a.signal.reason === reason));
  });
  await t.step("by a timeout signal", async () => {
    const dialer = new FakeDialer();
    const result = dialAny(dialer.dial, ["192.0.2.1", "192.0.2.2"], 80, {
      signal: AbortSignal.timeout(DELAY),
      attemptDelayMs: 5_000,
    });
    await assert.rejects(result, { name: "TimeoutError" });
    assert.equal(dialer.attempts.length, 1);
  });
  await t.step("before it starts", async () => {
    const dialer = new FakeDialer();
    const reason = new Error("Server stopping");
    await assert.rejects(
      dialAny(dialer.dial, ["192.0.2.1", "192.0.2.2"], 80, {
        signal: AbortSignal.abort(reason),
        attemptDelayMs: DELAY,
      }),
      (error) => error === reason,
    );
    assert.equal(dialer.attempts.length, 0);
  });
  assert.equal(timers.pending(), 0);
});

Deno.test("dialAny() closes a connection when it arrives after an abort", async () => {
  using timers = trackTimers();
  const dialer = new FakeDialer({ ignoreAbort: true });
  const controller = new AbortController();
  const result = dialAny(dialer.dial, ["192.0.2.1", "192.0.2.2"], 80, {
    signal: controller.signal,
    attemptDelayMs: DELAY,
  });
  const first = await dialer.started(1);
  controller.abort(new Error("Gone"));
  await assert.rejects(result, { message: "Gone" });
  first.succeed();
  await first.conn.whenClosed;
  assert.equal(dialer.attempts.length, 1);
  assert.equal(timers.pending(), 0);
});
