/**
 * Bounded waiting for every test: a pause, a promise raced against a hang
 * bound, and a condition polled until true. Every wait has an upper bound in
 * time (to turn a hang into a failure) and every poll an upper bound in
 * count. The bounds are generous hang detectors, never timing assertions.
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds: for tests where time itself must pass (a
 * rate window, a watchdog period, a ticket's lifetime).
 *
 * @param ms How long.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves like `promise`, or with `undefined` when it has not settled within
 * `ms` (the timer is cleared either way).
 *
 * @param promise What to wait for.
 * @param ms How long at most.
 * @returns The promise's value, or `undefined` on timeout.
 */
export async function settleWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves like `promise`, or rejects when it has not settled within `ms`.
 *
 * @param promise What to wait for.
 * @param ms The hang bound.
 * @param what Named in the error.
 * @returns The promise's value.
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: still pending after ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** How {@linkcode eventually} polls. */
export interface PollOptions {
  /** The hang bound in milliseconds (default 10,000). */
  ms?: number;
  /** The pause between polls in milliseconds (default 10). */
  every?: number;
}

/**
 * Polls `check` until it returns true: at most `ms` milliseconds and at most
 * `ms / every + 1` polls. A check that throws counts as false (a server still
 * starting); its last error is named in the failure.
 *
 * @param check The condition; may be async.
 * @param what Named in the error; a function is called only on failure (to
 * attach a log tail or the last value seen).
 * @param options The bound and the pause between polls.
 * @throws {Error} When the condition is still false at the bound.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string | (() => string),
  options: PollOptions = {},
): Promise<void> {
  const ms = options.ms ?? 10_000;
  const every = options.every ?? 10;
  const deadline = Date.now() + ms;
  const polls = Math.ceil(ms / every) + 1;
  let lastError: unknown = undefined;
  for (let i = 0; i < polls; i++) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) break;
    await sleep(every);
  }
  const label = typeof what === "string" ? what : what();
  throw new Error(
    `${label}: not true after ${ms} ms${
      lastError === undefined ? "" : ` (last error: ${lastError})`
    }`,
  );
}
