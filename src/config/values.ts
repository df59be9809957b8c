/**
 * Parsers for option values: addresses, durations, counts. Each failure is a
 * {@linkcode UsageError} naming the flag and quoting the value.
 *
 * @module
 */

/** A bad command line: the message names the flag. Exit code 2. */
export class UsageError extends Error {
  /**
   * Creates the instance.
   *
   * @param message One line naming the flag and the bad value.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A host and a port. */
export interface HostPort {
  /** An IP literal (IPv6 without brackets) or a name. */
  hostname: string;
  /** 0–65535. */
  port: number;
}

/**
 * Parses `HOST:PORT`, with IPv6 hosts in brackets.
 *
 * @param text For example `127.0.0.1:1080`, `[::1]:0`, `localhost:1080`.
 * @param flag The flag, for the error message.
 * @returns The address.
 * @throws {UsageError} When it is not a host and a port 0–65535.
 */
export function parseHostPort(text: string, flag: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new UsageError(
      `${flag}: expected HOST:PORT (IPv6 as [ADDR]:PORT), got ${
        JSON.stringify(text)
      }`,
    );
  }
  return { hostname: match[1] ?? match[2]!, port };
}

/**
 * Parses a duration: a number with unit `ms`, `s`, `m` or `h`; a bare number
 * is seconds.
 *
 * @param text For example `500ms`, `10s`, `2m`, `30`.
 * @param flag The flag, for the error message.
 * @returns Milliseconds.
 * @throws {UsageError} When it is not a non-negative duration.
 */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) {
    throw new UsageError(
      `${flag}: expected a duration like 500ms, 10s, 2m or 1h, got ${
        JSON.stringify(text)
      }`,
    );
  }
  const scale = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] ?? "s"]!;
  return Math.round(Number(match[1]) * scale);
}

/**
 * Parses a positive integer no larger than `max`.
 *
 * @param text The value.
 * @param flag The flag, for the error message.
 * @param max The largest value accepted.
 * @returns The number.
 * @throws {UsageError} When it is not an integer in 1..max.
 */
export function parseCount(text: string, flag: string, max: number): number {
  const value = /^[1-9]\d*$/.test(text) ? Number(text) : NaN;
  if (!(value <= max)) {
    const range = max >= Number.MAX_SAFE_INTEGER
      ? "a positive integer"
      : `an integer 1-${max}`;
    throw new UsageError(
      `${flag}: expected ${range}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/**
 * Checks a value against a fixed list.
 *
 * @param text The value.
 * @param flag The flag, for the error message.
 * @param allowed The values accepted.
 * @returns The value, typed.
 * @throws {UsageError} When it is not one of them.
 */
export function parseChoice<T extends string>(
  text: string,
  flag: string,
  allowed: readonly T[],
): T {
  if (!(allowed as readonly string[]).includes(text)) {
    const list = allowed.length === 2
      ? `${allowed[0]} or ${allowed[1]}`
      : `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`;
    throw new UsageError(
      `${flag}: expected ${list}, got ${JSON.stringify(text)}`,
    );
  }
  return text as T;
}

/**
 * Parses a byte rate per second: a number with an optional unit `B`, `KiB`,
 * `MiB`, `GiB` (powers of 1024) or `k`, `M`, `G` (powers of 1000), with or
 * without a trailing `/s`.
 *
 * @param text For example `256KiB`, `1MiB/s`, `500k`, `65536`.
 * @param flag The flag, for the error message.
 * @returns Bytes per second, at least 1.
 * @throws {UsageError} When it is not a positive rate.
 */
export function parseRate(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|k|M|G)?(?:\/s)?$/.exec(
    text.trim(),
  );
  const scale = match
    ? {
      B: 1,
      KiB: 1024,
      MiB: 1024 ** 2,
      GiB: 1024 ** 3,
      k: 1e3,
      M: 1e6,
      G: 1e9,
    }[match[2] ?? "B"]!
    : NaN;
  const value = match ? Math.floor(Number(match[1]) * scale) : NaN;
  if (!(value >= 1)) {
    throw new UsageError(
      `${flag}: expected a rate like 256KiB, 1MiB or 500k (bytes per second), got ${
        JSON.stringify(text)
      }`,
    );
  }
  return value;
}
