/**
 * One timer for every deadline of a server: handshake, connect, BIND accept
 * and idle timeouts.
 *
 * @module
 */

import { LiveList, type LiveNode } from "./live_list.ts";

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
  item: Watched;
  timeout: number;
  progress: number;
  since: number;
  /** Its place in the watchdog's list; `null` while not watched. */
  node: LiveNode<_Entry> | null;
}

/** An item as the watchdog sees it: its entry sits in a slot on the item. */
type _Slotted = Watched & { [slot: symbol]: _Entry | undefined };

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
  #entries = new LiveList<_Entry>();
  /**
   * Where an item keeps this watchdog's entry: on the item itself, not in a
   * `Map` keyed by it, which kept ended sessions alive until a full
   * collection (see `live_list.ts`). One symbol per watchdog, so an item
   * can be watched by several, each on its own.
   */
  readonly #slot = Symbol("watchdog entry");
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
    const slotted = item as _Slotted;
    let entry = slotted[this.#slot];
    if (!entry) {
      entry = { item, timeout: 0, progress: 0, since: 0, node: null };
      slotted[this.#slot] = entry;
    }
    entry.node ??= this.#entries.add(entry);
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
    const entry = (item as _Slotted)[this.#slot];
    if (entry) this.#forget(entry);
  }

  /** Stops watching everything and clears the interval. */
  close(): void {
    for (const entry of this.#entries) this.#forget(entry);
    this.#stop();
  }

  #tick(): void {
    const now = Date.now();
    // A snapshot: an expiring item may unwatch others.
    for (const entry of this.#entries) {
      if (entry.node === null) continue; // Unwatched during this check.
      const progress = entry.item.progress();
      if (progress !== entry.progress) {
        entry.progress = progress;
        entry.since = now;
      } else if (now - entry.since >= entry.timeout) {
        this.#forget(entry);
        entry.item.expire();
      }
    }
    if (this.#entries.size === 0) this.#stop();
  }

  #forget(entry: _Entry): void {
    if (entry.node === null) return;
    this.#entries.remove(entry.node);
    entry.node = null;
  }

  #stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
