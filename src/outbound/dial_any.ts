/**
 * Connecting to the first reachable of several addresses, Happy Eyeballs
 * style (RFC 8305).
 *
 * @module
 */

import { closeQuietly } from "../core/close_quietly.ts";
import { Reply } from "../protocol/constants.ts";
import { SocksError } from "../protocol/errors.ts";
import { ipFamily } from "../protocol/ip.ts";
import type { Connection, Network } from "../runtime/transport.ts";

/**
 * Opens one TCP connection to one IP literal; `Network.connect` with the
 * route's options filled in.
 */
export type DialOne = (
  hostname: string,
  port: number,
  signal: AbortSignal,
) => Promise<Connection>;

/** Options of {@linkcode dialAny}. */
export interface DialAnyOptions {
  /** Aborts every attempt; its reason is what `dialAny` throws then. */
  signal: AbortSignal;
  /**
   * How long an attempt may stay pending before the next address is tried
   * in parallel (RFC 8305 "Connection Attempt Delay").
   * @default {250}
   */
  attemptDelayMs?: number;
}

/**
 * Dials the first reachable of `addresses` ({@linkcode dialAny}) from
 * `source` when one is given (an outbound address): only addresses of its
 * family can be reached from it, and every attempt binds it.
 *
 * @param network Where connections are opened.
 * @param addresses IP literals, best first.
 * @param port The port.
 * @param source The local address to bind, or `null` for the default.
 * @param what Names the destination in the error ("Destination host:port").
 * @param signal Aborts every attempt.
 * @returns The first connection that succeeded.
 * @throws {SocksError} REP X'03' when no address has the source's family.
 */
export function dialFrom(
  network: Network,
  addresses: readonly string[],
  port: number,
  source: string | null,
  what: string,
  signal: AbortSignal,
): Promise<Connection> {
  let usable = addresses;
  if (source !== null) {
    const family = ipFamily(source);
    usable = addresses.filter((a) => ipFamily(a) === family);
    if (usable.length === 0) {
      return Promise.reject(
        new SocksError(
          Reply.NETWORK_UNREACHABLE,
          `${what} has no address of the source address's family`,
        ),
      );
    }
  }
  return dialAny(
    (hostname, port, attempt) =>
      source !== null
        ? network.connect({
          hostname,
          port,
          signal: attempt,
          localAddress: source,
        })
        : network.connect({ hostname, port, signal: attempt }),
    usable,
    port,
    { signal },
  );
}

/**
 * Tries every address until one connects. Families are interleaved (IPv6,
 * IPv4, IPv6, … starting with the first address's family) so a broken
 * family costs one attempt delay, not a timeout per address. A new attempt
 * starts when the previous one fails or has been pending for the attempt
 * delay; the first success wins and the others are aborted and closed.
 *
 * @param dial Opens one connection.
 * @param addresses IP literals, best first.
 * @param port The port.
 * @param options The signal and attempt delay.
 * @returns The first connection that succeeded.
 * @throws The first address's error when every attempt fails, or the
 * signal's reason when aborted.
 */
export function dialAny(
  dial: DialOne,
  addresses: readonly string[],
  port: number,
  options: DialAnyOptions,
): Promise<Connection> {
  const { signal } = options;
  if (addresses.length === 1) return dial(addresses[0]!, port, signal);
  if (addresses.length === 0) {
    return Promise.reject(new RangeError("No addresses to dial"));
  }
  const order = _interleave(addresses);
  const delay = options.attemptDelayMs ?? 250;
  return new Promise<Connection>((resolve, reject) => {
    const attempts: AbortController[] = [];
    const errors: unknown[] = new Array(order.length);
    let next = 0;
    let failed = 0;
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      outcome();
    };
    const onAbort = () => {
      for (const attempt of attempts) attempt.abort(signal.reason);
      finish(() => reject(signal.reason));
    };
    const start = () => {
      clearTimeout(timer);
      if (done || next >= order.length) return;
      const index = next++;
      const controller = new AbortController();
      attempts.push(controller);
      dial(order[index]!, port, controller.signal).then(
        (conn) => {
          if (done) return closeQuietly(conn);
          for (const other of attempts) {
            if (other !== controller) other.abort();
          }
          finish(() => resolve(conn));
        },
        (error) => {
          errors[index] = error;
          if (++failed === order.length) {
            finish(() => reject(errors.find((e) => e !== undefined)));
          } else if (index === next - 1) start();
        },
      );
      if (next < order.length) timer = setTimeout(start, delay);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) return onAbort();
    start();
  });
}

function _interleave(addresses: readonly string[]): string[] {
  const first = ipFamily(addresses[0]!);
  const same = addresses.filter((a) => ipFamily(a) === first);
  const other = addresses.filter((a) => ipFamily(a) !== first);
  const out: string[] = [];
  for (let i = 0; i < Math.max(same.length, other.length); i++) {
    if (i < same.length) out.push(same[i]!);
    if (i < other.length) out.push(other[i]!);
  }
  return out;
}
