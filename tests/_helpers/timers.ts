/**
 * Counts the timers a test leaves armed. Deno's op sanitizer does not see
 * `setTimeout`/`setInterval` timers (checked on Deno 2.9), so tests of code
 * that owns timers wrap the globals for their duration.
 *
 * @module
 */

/** Armed timers, while installed. */
export interface TimerTracker extends Disposable {
  /** How many timeouts and intervals are armed now. */
  pending(): number;
}

/**
 * Wraps the global timer functions until disposed; disposing clears any
 * timer still armed and restores the globals.
 *
 * @example
 * ```ts
 * using timers = trackTimers();
 * // ... code under test ...
 * assert.equal(timers.pending(), 0);
 * ```
 */
export function trackTimers(): TimerTracker {
  type TimerFn = (...args: unknown[]) => unknown;
  const globals = globalThis as unknown as Record<string, TimerFn>;
  const names = ["setTimeout", "setInterval", "clearTimeout", "clearInterval"];
  const original = Object.fromEntries(names.map((n) => [n, globals[n]!]));
  const armed = new Set<unknown>();
  globals.setTimeout = (callback, delay, ...args) => {
    const id = original.setTimeout!(() => {
      armed.delete(id);
      (callback as TimerFn)(...args);
    }, delay);
    armed.add(id);
    return id;
  };
  globals.setInterval = (callback, delay, ...args) => {
    const id = original.setInterval!(
      () => (callback as TimerFn)(...args),
      delay,
    );
    armed.add(id);
    return id;
  };
  globals.clearTimeout = (id) => {
    armed.delete(id);
    return original.clearTimeout!(id);
  };
  globals.clearInterval = (id) => {
    armed.delete(id);
    return original.clearInterval!(id);
  };
  return {
    pending: () => armed.size,
    [Symbol.dispose]() {
      for (const id of armed) original.clearInterval!(id);
      Object.assign(globals, original);
    },
  };
}
