/**
 * UDP ASSOCIATE through a SOCKS5 proxy.
 *
 * @module
 */

import { closeQuietly } from "../core/close_quietly.ts";
import { type SocksAddress, toSocksAddress } from "../protocol/address.ts";
import { AddressType, Command } from "../protocol/constants.ts";
import {
  decodeUdpDatagram,
  encodeUdpDatagram,
} from "../protocol/udp_header.ts";
import type { DatagramProtection } from "../core/gss_protected_connection.ts";
import type {
  Connection,
  DatagramSocket,
  NetAddress,
} from "../runtime/transport.ts";
import {
  type ClientOptionsWithNetwork,
  type Destination,
  handshake,
} from "./handshake.ts";

/** One datagram received through the relay. */
export interface RelayedDatagram {
  /** The payload. */
  data: Uint8Array;
  /** Who sent it, as the proxy reported. */
  from: SocksAddress;
}

/**
 * A UDP association: send datagrams anywhere through the proxy's relay,
 * receive the answers. Closing it (or its control connection) ends the
 * association.
 */
export class Socks5UdpAssociation implements Disposable {
  /** The proxy's relay address (the reply's BND.ADDR/BND.PORT). */
  readonly relay: SocksAddress;
  /** The TCP control connection; the association lives as long as it. */
  readonly control: Connection;
  /** The local UDP socket. */
  readonly socket: DatagramSocket;
  #buffer = new Uint8Array(65_536);
  #protection: DatagramProtection | null;

  /**
   * Creates the instance.
   *
   * @param control The control connection.
   * @param socket The local UDP socket the request named.
   * @param relay The relay address from the reply.
   * @param protection How datagrams are sealed (GSS-API), if at all.
   */
  constructor(
    control: Connection,
    socket: DatagramSocket,
    relay: SocksAddress,
    protection: DatagramProtection | null = null,
  ) {
    this.#protection = protection;
    this.control = control;
    this.socket = socket;
    this.relay = relay;
  }

  /**
   * Sends one datagram to `destination` through the relay.
   *
   * @param data The payload.
   * @param destination Host (IP literal or name) and port.
   */
  async send(data: Uint8Array, destination: Destination): Promise<void> {
    const plain = encodeUdpDatagram(
      toSocksAddress(destination.host, destination.port),
      data,
    );
    await this.socket.send(
      this.#protection ? this.#protection.seal(plain) : plain,
      { hostname: this.relay.host, port: this.relay.port },
    );
  }

  /**
   * Receives the next datagram from the relay, skipping anything that does
   * not come from the relay's address.
   *
   * @returns The payload and its sender.
   * @throws {ProtocolError} When the relay sends a malformed header.
   */
  async receive(): Promise<RelayedDatagram> {
    for (;;) {
      const [bytes, from] = await this.socket.receive(this.#buffer);
      if (from.port !== this.relay.port) continue;
      const datagram = decodeUdpDatagram(
        this.#protection ? this.#protection.open(bytes) : bytes,
      );
      // A copy: the receive buffer is reused by the next call.
      return { data: datagram.data.slice(), from: datagram.address };
    }
  }

  /** Ends the association: closes the control connection and the socket. */
  close(): void {
    closeQuietly(this.control);
    closeQuietly(this.socket);
  }

  /** Same as {@linkcode Socks5UdpAssociation.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens a UDP association. A local UDP socket is bound on the address the
 * control connection uses, and the request names its port, so the proxy
 * accepts datagrams from exactly this socket.
 *
 * @example
 * ```ts ignore
 * import { udpAssociate } from "../mod.ts";
 * using udp = await udpAssociate({ proxy: { hostname: "127.0.0.1", port: 1080 } });
 * await udp.send(new TextEncoder().encode("ping"), { host: "127.0.0.1", port: 5353 });
 * const { data, from } = await udp.receive();
 * ```
 *
 * @param options Proxy, credentials, signal.
 * @returns The association.
 */
export async function udpAssociate(
  options: ClientOptionsWithNetwork,
): Promise<Socks5UdpAssociation> {
  // The local socket must exist before the request so that its port can be
  // named in it; it binds on the same family as the proxy address.
  const probe = toSocksAddress(options.proxy.hostname, options.proxy.port);
  const socket = await options.network.listenDatagram({
    hostname: probe.type === AddressType.IPV6 ? "::" : "0.0.0.0",
    port: 0,
  });
  try {
    const { port } = socket.addr;
    const { conn, bound, datagrams } = await handshake(
      Command.UDP_ASSOCIATE,
      { host: probe.type === AddressType.IPV6 ? "::" : "0.0.0.0", port },
      options,
    );
    // A relay bound to the unspecified address is reached at the proxy's own
    // address (RFC 1928 leaves this to the client).
    const relay = bound.host === "0.0.0.0" || bound.host === "::"
      ? { ...bound, host: (conn.remoteAddr as NetAddress).hostname }
      : bound;
    return new Socks5UdpAssociation(conn, socket, relay, datagrams);
  } catch (error) {
    closeQuietly(socket);
    throw error;
  }
}
