/**
 * The soak's verdict on memory: did the server's resident set plateau?
 *
 * The criterion: split the run's RSS samples into thirds by time; the
 * largest sample of the last third may exceed the largest of the first third
 * by at most 30 % plus 16 MiB. The first third absorbs warm-up (V8 grows its
 * heap to the working set of the load, allocators keep freed pages), so a
 * server whose memory is bounded by its load stays level after it, while a
 * leak that grows with sessions or bytes keeps climbing through the last
 * third, and at the soak's default length (10 minutes) crosses the margin.
 * The least-squares slope over the last two thirds is reported alongside,
 * for people; it is not part of the verdict (a steady run still shows a
 * small positive slope from heap growth).
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
  firstThirdMaxMib: number;
  lastThirdMaxMib: number;
  limitMib: number;
  /** MiB per minute over the last two thirds. */
  slopeMibPerMin: number;
}

/** Allowed relative growth of the last third's maximum. */
export const RSS_GROWTH_FACTOR = 1.3;
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
      firstThirdMaxMib: NaN,
      lastThirdMaxMib: NaN,
      limitMib: NaN,
      slopeMibPerMin: NaN,
    };
  }
  const end = samples.at(-1)!.t;
  const third = end / 3;
  const mib = (kib: number) => kib / 1024;
  const first = samples.filter((s) => s.t <= third);
  const last = samples.filter((s) => s.t >= 2 * third);
  const firstMax = mib(Math.max(...first.map((s) => s.kib)));
  const lastMax = mib(Math.max(...last.map((s) => s.kib)));
  const limit = firstMax * RSS_GROWTH_FACTOR + RSS_GROWTH_MARGIN_MIB;
  const tail = samples.filter((s) => s.t >= third);
  return {
    ok: lastMax <= limit,
    firstThirdMaxMib: firstMax,
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
