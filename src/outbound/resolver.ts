/**
 * The name resolution hook, and holding any resolver to its contract.
 *
 * @module
 */

import { Reply } from "../protocol/constants.ts";
import { SocksError } from "../protocol/errors.ts";

/**
 * Turns a host name into IP literals. Replace it to pin names, to use DNS
 * over HTTPS, or to keep tests off the network.
 */
export interface Resolver {
  /**
   * Resolves a name.
   *
   * @param hostname A domain name (never an IP literal: those skip the
   * resolver).
   * @param signal Aborted when the session's connect deadline passes or the
   * session ends.
   * @returns IP literals, best first; both families when the name has both.
   * @throws {SocksError} With REP X'04' when the name does not resolve.
   */
  resolve(hostname: string, signal: AbortSignal): Promise<string[]>;
}

/** The codes getaddrinfo and DNS clients report a failed lookup with. */
const _LOOKUP_FAILURE =
  /^(ENOTFOUND|ENODATA|ESERVFAIL|EREFUSED|ECONNREFUSED|ETIMEOUT|EAI_[A-Z]+)$/;

/**
 * Resolves a name through any {@linkcode Resolver}, holding it to its
 * contract: the lookup ends when `signal` aborts even if the resolver ignores
 * the signal (its late answer is dropped), and an empty answer is a failure.
 *
 * @param resolver The resolver hook.
 * @param hostname A domain name.
 * @param signal Bounds the lookup (connect deadline, session end).
 * @returns At least one address, as the resolver returned them.
 * @throws {SocksError} With REP X'04' when the resolver found no address
 * or failed with a resolver error code (`ENOTFOUND`, `EAI_*`, as
 * `node:dns` reports them); the signal's reason when it aborted first;
 * whatever else the resolver threw.
 */
export async function resolveWithin(
  resolver: Resolver,
  hostname: string,
  signal: AbortSignal,
): Promise<string[]> {
  signal.throwIfAborted();
  let addresses: string[];
  try {
    addresses = await raceSignal(resolver.resolve(hostname, signal), signal);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === "string" && _LOOKUP_FAILURE.test(code)) {
      throw new SocksError(
        Reply.HOST_UNREACHABLE,
        `Could not resolve ${JSON.stringify(hostname)}`,
        { cause: error },
      );
    }
    throw error;
  }
  if (addresses.length === 0) {
    throw new SocksError(
      Reply.HOST_UNREACHABLE,
      `No addresses for ${JSON.stringify(hostname)}`,
    );
  }
  return addresses;
}

/**
 * Settles like `promise`, or rejects with the signal's reason when it aborts
 * first.
 *
 * @param promise What to wait for.
 * @param signal What cuts the wait short.
 * @returns The promise's value.
 */
export function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}
