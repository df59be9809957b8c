/**
 * BIND through a SOCKS5 proxy.
 *
 * @module
 */

import { closeQuietly } from "../core/close_quietly.ts";
import type { SocksAddress } from "../protocol/address.ts";
import type { Connection } from "../runtime/transport.ts";
import { Command } from "../protocol/constants.ts";
import {
  type ClientOptionsWithNetwork,
  type Destination,
  handshake,
  readReplyOrThrow,
} from "./handshake.ts";

/** A pending BIND. */
export interface Socks5Binding {
  /** The control connection; after `peer` resolves it carries the peer's bytes. */
  conn: Connection;
  /** Where the proxy listens: give this to the peer (first reply). */
  bound: SocksAddress;
  /**
   * Resolves with the peer's address when it has connected (second reply);
   * rejects with a `SocksError` when the proxy reports failure.
   */
  peer: Promise<SocksAddress>;
}

/**
 * Asks the proxy to accept one incoming connection for us.
 *
 * @example
 * ```ts ignore
 * import { bind } from "../mod.ts";
 * const binding = await bind({ host: "0.0.0.0", port: 0 }, {
 *   proxy: { hostname: "127.0.0.1", port: 1080 },
 * });
 * console.log("tell the peer to connect to", binding.bound);
 * const peer = await binding.peer;
 * ```
 *
 * @param destination The expected peer (0.0.0.0:0 for anyone).
 * @param options Proxy, credentials, signal.
 * @returns The control connection, the bound address and the peer promise.
 */
export async function bind(
  destination: Destination,
  options: ClientOptionsWithNetwork,
): Promise<Socks5Binding> {
  const { conn, reader, bound } = await handshake(
    Command.BIND,
    destination,
    options,
  );
  const peer = readReplyOrThrow(reader).catch((error) => {
    closeQuietly(conn);
    throw error;
  });
  // A caller that never awaits `peer` must not crash the process with an
  // unhandled rejection when the connection is closed.
  peer.catch(() => {});
  return { conn, bound, peer };
}
