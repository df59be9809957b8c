/**
 * CONNECT through a SOCKS5 proxy.
 *
 * @module
 */

import type { SocksAddress } from "../protocol/address.ts";
import type { Connection } from "../runtime/transport.ts";
import { Command } from "../protocol/constants.ts";
import {
  type ClientOptionsWithNetwork,
  type Destination,
  handshake,
} from "./handshake.ts";

/** A connection to a destination through the proxy. */
export interface Socks5Connection {
  /** Read and write the destination's bytes here. */
  conn: Connection;
  /** The proxy's outbound address (BND.ADDR/BND.PORT). */
  bound: SocksAddress;
}

/**
 * Opens a TCP connection to `destination` through a SOCKS5 proxy.
 *
 * @example
 * ```ts ignore
 * import { connect } from "../mod.ts";
 * const { conn } = await connect({ host: "127.0.0.1", port: 8080 }, {
 *   proxy: { hostname: "127.0.0.1", port: 1080 },
 * });
 * await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 * conn.close();
 * ```
 *
 * @param destination Host (IP literal or name, resolved by the proxy) and port.
 * @param options Proxy, credentials, signal.
 * @returns The connection and the proxy's bound address.
 * @throws {SocksError} With the proxy's reply code when it refused.
 */
export async function connect(
  destination: Destination,
  options: ClientOptionsWithNetwork,
): Promise<Socks5Connection> {
  const { conn, bound } = await handshake(
    Command.CONNECT,
    destination,
    options,
  );
  return { conn, bound };
}
