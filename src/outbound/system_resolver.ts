/**
 * The system resolver (getaddrinfo through `node:dns`, which Deno and Bun
 * both provide): /etc/hosts, then DNS.
 *
 * @module
 */

import { Reply } from "../protocol/constants.ts";
import { SocksError } from "../protocol/errors.ts";
import { raceSignal, type Resolver } from "./resolver.ts";

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
      found = await raceSignal(
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
