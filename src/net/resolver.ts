/**
 * Name resolution hook and its default over the system resolver.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
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

function _race<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}
