/**
 * The soak's verdict on memory: did the server's resident set plateau?
 *
 * The criterion: split the run's RSS samples into thirds by time and
 * ignore the first, where V8 grows its heap to the working set of the load
 * and the allocator settles (on this machine RSS rises by about half during
 * the first 20 to 30 seconds under 32 workers, then levels). The largest
 * sample of the last third may exceed the largest of the middle third by at
 * most 20 % plus 16 MiB. A server whose memory is bounded by its load stays
 * level after warm-up; a leak that grows with sessions or bytes keeps
 * climbing from the middle third to the last. The least-squares slope over
 * the last two thirds is reported alongside, for people; it is not part of
 * the verdict (garbage collection makes it noisy over short runs).
 *
 * @module
 */

/** One RSS sample. */
export interface RssSample {
  /** Seconds since the load started. */
  t: number;
  /** Resident set size, KiB. */
  kib: number;
}

/** The memory verdict. */
export interface RssVerdict {
  ok: boolean;
  middleThirdMaxMib: number;
  lastThirdMaxMib: number;
  limitMib: number;
  /** MiB per minute over the last two thirds. */
  slopeMibPerMin: number;
}

/** Allowed relative growth of the last third's maximum. */
export const RSS_GROWTH_FACTOR = 1.2;
/** Allowed absolute growth on top, MiB. */
export const RSS_GROWTH_MARGIN_MIB = 16;

/**
 * Judges whether RSS plateaued.
 *
 * @param samples Samples in time order, at least three.
 * @returns The verdict and its numbers.
 */
export function judgeRss(samples: readonly RssSample[]): RssVerdict {
  if (samples.length < 3) {
    return {
      ok: false,
      middleThirdMaxMib: NaN,
      lastThirdMaxMib: NaN,
      limitMib: NaN,
      slopeMibPerMin: NaN,
    };
  }
  const end = samples.at(-1)!.t;
  const third = end / 3;
  const mib = (kib: number) => kib / 1024;
  const middle = samples.filter((s) => s.t >= third && s.t <= 2 * third);
  const last = samples.filter((s) => s.t >= 2 * third);
  const middleMax = mib(Math.max(...middle.map((s) => s.kib)));
  const lastMax = mib(Math.max(...last.map((s) => s.kib)));
  const limit = middleMax * RSS_GROWTH_FACTOR + RSS_GROWTH_MARGIN_MIB;
  const tail = samples.filter((s) => s.t >= third);
  return {
    ok: lastMax <= limit,
    middleThirdMaxMib: middleMax,
    lastThirdMaxMib: lastMax,
    limitMib: limit,
    slopeMibPerMin: _slope(tail.map((s) => [s.t / 60, mib(s.kib)])),
  };
}

function _slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
