/**
 * The SOCKS5 client alone: CONNECT, BIND and UDP ASSOCIATE through any
 * SOCKS5 proxy, on Deno's sockets unless `network` says otherwise. It does
 * not load the server.
 *
 * ```ts
 * import { connect } from "./mod.ts";
 *
 * async function fetchThroughProxy(port: number) {
 *   const { conn } = await connect(
 *     { host: "127.0.0.1", port: 8080 },
 *     { proxy: { hostname: "127.0.0.1", port } },
 *   );
 *   await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 *   conn.close();
 * }
 * ```
 *
 * @module
 */

import { bind as _bind, type Socks5Binding } from "./bind.ts";
import { connect as _connect, type Socks5Connection } from "./connect.ts";
import type { Destination, Socks5ClientOptions } from "./handshake.ts";
import {
  type RelayedDatagram,
  Socks5UdpAssociation,
  udpAssociate as _udpAssociate,
} from "./udp_associate.ts";
import { denoNetwork } from "../runtime/deno/network.ts";

export type {
  Destination,
  RelayedDatagram,
  Socks5Binding,
  Socks5ClientOptions,
  Socks5Connection,
};
export { Socks5UdpAssociation };
export { SocksError } from "../protocol/errors.ts";
export { Reply } from "../protocol/constants.ts";
export type { SocksAddress } from "../protocol/address.ts";
export type {
  Connection,
  ConnectOptions,
  DatagramOptions,
  DatagramSocket,
  Listener,
  ListenOptions,
  NetAddress,
  Network,
  SpliceCounters,
} from "../runtime/transport.ts";
export { NetError, type NetErrorKind } from "../runtime/net_error.ts";

/**
 * Opens a TCP connection to `destination` through a SOCKS5 proxy.
 *
 * @param destination Host (IP literal or name, resolved by the proxy) and
 * port.
 * @param options Proxy, credentials, signal, network.
 * @returns The connection and the proxy's bound address.
 */
export function connect(
  destination: Destination,
  options: Socks5ClientOptions,
): Promise<Socks5Connection> {
  return _connect(destination, { network: denoNetwork, ...options });
}

/**
 * Asks a SOCKS5 proxy to accept one incoming connection (BIND).
 *
 * @param destination The expected peer (0.0.0.0:0 for anyone).
 * @param options Proxy, credentials, signal, network.
 * @returns The control connection, the bound address and the peer promise.
 */
export function bind(
  destination: Destination,
  options: Socks5ClientOptions,
): Promise<Socks5Binding> {
  return _bind(destination, { network: denoNetwork, ...options });
}

/**
 * Opens a UDP association through a SOCKS5 proxy.
 *
 * @param options Proxy, credentials, signal, network.
 * @returns The association.
 */
export function udpAssociate(
  options: Socks5ClientOptions,
): Promise<Socks5UdpAssociation> {
  return _udpAssociate({ network: denoNetwork, ...options });
}
