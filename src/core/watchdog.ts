/**
 * One timer for every deadline of a server: handshake, connect, BIND accept
 * and idle timeouts.
 *
 * @module
 */

/** Something the watchdog can time out. */
export interface Watched {
  /**
   * A number that changes whenever the watched thing makes progress (bytes
   * moved, datagrams relayed). Return a constant for a hard deadline.
   */
  progress(): number;
  /** Called once when `progress()` has not changed for the timeout. */
  expire(): void;
}

interface _Entry {
  timeout: number;
  progress: number;
  since: number;
}

/**
 * Checks all watched items on one interval instead of arming a timer per
 * session and re-arming it per chunk: the relay's hot path only bumps a
 * counter, and the check costs O(sessions) once per period.
 *
 * A deadline fires between `timeout` and `timeout + period` after the last
 * progress. The interval runs while something is watched and stops on the
 * first check that finds nothing: sessions that come and go one after the
 * other keep one interval instead of setting and clearing one each (which
 * costs Deno about 4.6 µs a session).
 *
 * @example
 * ```ts
 * import { Watchdog } from "./watchdog.ts";
 * const dog = new Watchdog(50);
 * dog.watch({ progress: () => 0, expire: () => console.log("late") }, 200);
 * ```
 */
export class Watchdog {
  #entries = new Map<Watched, _Entry>();
  #period: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Creates the instance.
   *

   * @param periodMs How often to check, in milliseconds.

   */
  constructor(periodMs: number) {
    this.#period = periodMs;
  }

  /**
   * Starts (or restarts) watching an item.
   *
   * @param item What to watch.
   * @param timeoutMs How long without progress until it expires; 0 or
   * `Infinity` means never.
   */
  watch(item: Watched, timeoutMs: number): void {
    if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
      this.unwatch(item);
      return;
    }
    // A session re-arms its deadline at each stage: the entry is reused.
    let entry = this.#entries.get(item);
    if (!entry) {
      this.#entries.set(item, entry = { timeout: 0, progress: 0, since: 0 });
    }
    entry.timeout = timeoutMs;
    entry.progress = item.progress();
    entry.since = Date.now();
    this.#timer ??= setInterval(() => this.#tick(), this.#period);
  }

  /**
   * Stops watching an item. The interval, if nothing else is watched, stops
   * at its next check.
   *
   * @param item What was watched.
   */
  unwatch(item: Watched): void {
    this.#entries.delete(item);
  }

  /** Stops watching everything and clears the interval. */
  close(): void {
    this.#entries.clear();
    this.#stop();
  }

  #tick(): void {
    const now = Date.now();
    for (const [item, entry] of this.#entries) {
      const progress = item.progress();
      if (progress !== entry.progress) {
        entry.progress = progress;
        entry.since = now;
      } else if (now - entry.since >= entry.timeout) {
        this.#entries.delete(item);
        item.expire();
      }
    }
    if (this.#entries.size === 0) this.#stop();
  }

  #stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
