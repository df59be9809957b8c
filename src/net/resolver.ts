/**
 * Name resolution hook and its default over the system resolver.
 *
 * @module
 */

import { SocksError } from "../errors.ts";
import { Reply } from "../protocol/constants.ts";

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

/**
 * Resolves through the operating system (getaddrinfo: /etc/hosts, then DNS),
 * returning every address in the system's preference order.
 */
export class SystemResolver implements Resolver {
  /** Resolves through getaddrinfo. */
  async resolve(hostname: string, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    let found: Array<{ address: string }>;
    try {
      // getaddrinfo cannot be cancelled; racing it against the signal lets
      // the session move on while the lookup finishes in the background.
      // Loaded on first use: Node's compatibility layer costs memory and
      // start-up time that a server handling only IP literals never needs.
      const { lookup } = await import("node:dns/promises");
      found = await _race(
        lookup(hostname, { all: true, order: "verbatim" }),
        signal,
      );
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw new SocksError(
        Reply.HOST_UNREACHABLE,
        `Could not resolve ${JSON.stringify(hostname)}`,
        { cause: error },
      );
    }
    if (found.length === 0) {
      throw new SocksError(
        Reply.HOST_UNREACHABLE,
        `No addresses for ${JSON.stringify(hostname)}`,
      );
    }
    return found.map((entry) => entry.address);
  }
}

/**
 * Resolves a name through any {@linkcode Resolver}, holding it to its
 * contract: the lookup ends when `signal` aborts even if the resolver ignores
 * the signal (its late answer is dropped), and an empty answer is a failure.
 *
 * @param resolver The resolver hook.
 * @param hostname A domain name.
 * @param signal Bounds the lookup (connect deadline, session end).
 * @returns At least one address, as the resolver returned them.
 * @throws {SocksError} With REP X'04' when the resolver found no address;
 * the signal's reason when it aborted first; whatever the resolver threw.
 */
export async function resolveWithin(
  resolver: Resolver,
  hostname: string,
  signal: AbortSignal,
): Promise<string[]> {
  signal.throwIfAborted();
  const addresses = await _race(resolver.resolve(hostname, signal), signal);
  if (addresses.length === 0) {
    throw new SocksError(
      Reply.HOST_UNREACHABLE,
      `No addresses for ${JSON.stringify(hostname)}`,
    );
  }
  return addresses;
}

function _race<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}
