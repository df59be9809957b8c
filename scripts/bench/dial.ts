/**
 * Opening benchmark connections, through a SOCKS5 proxy or straight to the
 * destination (the `direct` baseline), loopback only.
 *
 * @module
 */

import { type Credentials, SocksHandshake } from "./socks_client.ts";

/** A host and port. */
export interface Endpoint {
  /** Literal loopback IP address. */
  hostname: string;
  /** TCP port. */
  port: number;
}

/** Where benchmark connections go. */
export interface Route {
  /** The proxy under test; absent for the direct baseline. */
  proxy?: Endpoint;
  /** The target server behind the proxy. */
  destination: Endpoint;
  /** RFC 1929 credentials for the proxy. */
  credentials?: Credentials;
}

/** True for 127.0.0.0/8 and ::1, the only addresses this benchmark may use. */
export function isLoopback(hostname: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) ||
    hostname === "::1";
}

/**
 * Parses `"HOST:PORT"` or `"[V6]:PORT"` into an {@link Endpoint}.
 *
 * @throws {RangeError} if the text is malformed or not a loopback address.
 */
export function parseEndpoint(text: string): Endpoint {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const hostname = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (hostname === undefined || !(port > 0 && port < 65536)) {
    throw new RangeError(`Expected HOST:PORT: "${text}"`);
  }
  if (!isLoopback(hostname)) {
    throw new RangeError(`Only loopback addresses are allowed: "${hostname}"`);
  }
  return { hostname, port };
}

/**
 * Opens tunnels along one route. Holds a handshake with its own scratch
 * buffer, so use one dialer per concurrent worker.
 */
export class Dialer {
  #route: Route;
  #handshake: SocksHandshake | undefined;

  /** @param route where connections go; see {@link Route}. */
  constructor(route: Route) {
    this.#route = route;
    if (route.proxy) {
      const options = route.credentials
        ? { credentials: route.credentials }
        : {};
      this.#handshake = new SocksHandshake(route.destination, options);
    }
  }

  /**
   * Connects and, through a proxy, completes the SOCKS5 CONNECT handshake.
   * Closes the connection if the handshake fails.
   */
  async open(): Promise<Deno.TcpConn> {
    const first = this.#route.proxy ?? this.#route.destination;
    const conn = await Deno.connect({
      hostname: first.hostname,
      port: first.port,
    });
    if (this.#handshake) {
      try {
        await this.#handshake.run(conn);
      } catch (error) {
        conn.close();
        throw error;
      }
    }
    return conn;
  }
}
