/**
 * The last minutes of throughput, for the status page's chart: totals
 * sampled at a fixed interval, kept in a ring, turned into rates.
 *
 * @module
 */

/** One point of the chart. */
export interface ThroughputPoint {
  /** End of the interval, ms since the epoch. */
  t: number;
  /** Bytes per second client → destination over the interval. */
  up: number;
  /** Bytes per second destination → client over the interval. */
  down: number;
}

/** Totals sampled over time; the newest `capacity` are kept. */
export class ThroughputHistory {
  #samples: Array<{ t: number; up: number; down: number }> = [];
  #capacity: number;

  /**
   * Creates the instance.
   *
   * @param capacity How many samples to keep (points + 1).
   */
  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 2)) {
      throw new RangeError(`capacity must be an integer >= 2, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  /**
   * Adds a sample of the byte totals.
   *
   * @param t When, ms since the epoch.
   * @param up Total bytes up so far.
   * @param down Total bytes down so far.
   */
  record(t: number, up: number, down: number): void {
    this.#samples.push({ t, up, down });
    if (this.#samples.length > this.#capacity) this.#samples.shift();
  }

  /**
   * The rates between consecutive samples, oldest first.
   *
   * @returns One point per interval.
   */
  points(): ThroughputPoint[] {
    const out: ThroughputPoint[] = [];
    for (let i = 1; i < this.#samples.length; i++) {
      const a = this.#samples[i - 1]!, b = this.#samples[i]!;
      const seconds = Math.max((b.t - a.t) / 1000, 1e-3);
      out.push({
        t: b.t,
        up: Math.max(0, b.up - a.up) / seconds,
        down: Math.max(0, b.down - a.down) / seconds,
      });
    }
    return out;
  }
}
