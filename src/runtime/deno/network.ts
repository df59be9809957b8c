/**
 * The transport seam on Deno: `Deno.listen`, `Deno.connect` and
 * `Deno.listenDatagram`. Deno's TCP connections already have the pull-style
 * shape the core wants (`read` into a caller's buffer, `write`,
 * `closeWrite`), so they are handed out as they are: no wrapper, no extra
 * promise per read.
 *
 * @module
 */

import { NetError, type NetErrorKind, toNetError } from "../net_error.ts";
import type {
  Connection,
  ConnectOptions,
  DatagramOptions,
  DatagramSocket,
  Listener,
  ListenOptions,
  NetAddress,
  Network,
} from "../transport.ts";

/** Deno's network, through its own APIs. */
export const denoNetwork: Network = {
  // Deno.connect has no local-address option.
  canBindSource: false,

  listen(options: ListenOptions): Promise<Listener> {
    try {
      return Promise.resolve(
        new _DenoListener(
          Deno.listen({
            hostname: options.hostname,
            port: options.port,
            transport: "tcp",
            reusePort: options.reusePort ?? false,
          }),
        ),
      );
    } catch (error) {
      return Promise.reject(denoNetError(error));
    }
  },

  async connect(options: ConnectOptions): Promise<Connection> {
    if (options.localAddress !== undefined) {
      throw new NetError(
        "other",
        "Deno cannot choose the source address of an outbound connection",
      );
    }
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({
        hostname: options.hostname,
        port: options.port,
        ...(options.signal ? { signal: options.signal } : {}),
        // The core interleaves families itself (Happy Eyeballs).
        autoSelectFamily: false,
      });
    } catch (error) {
      throw options.signal?.aborted
        ? options.signal.reason
        : denoNetError(error);
    }
    _noDelay(conn);
    return conn;
  },

  listenDatagram(options: DatagramOptions): Promise<DatagramSocket> {
    try {
      return Promise.resolve(
        new _DenoDatagram(
          Deno.listenDatagram({
            transport: "udp",
            hostname: options.hostname,
            port: options.port,
          }),
        ),
      );
    } catch (error) {
      return Promise.reject(denoNetError(error));
    }
  },
};

class _DenoListener implements Listener {
  readonly addr: NetAddress;
  #listener: Deno.TcpListener;

  constructor(listener: Deno.TcpListener) {
    this.#listener = listener;
    this.addr = listener.addr;
  }

  accept(): Promise<Connection> {
    return this.#listener.accept().then(_noDelay, (error) => {
      throw denoNetError(error);
    });
  }

  close(): void {
    this.#listener.close();
  }
}

class _DenoDatagram implements DatagramSocket {
  readonly addr: NetAddress;
  #socket: Deno.DatagramConn;

  constructor(socket: Deno.DatagramConn) {
    this.#socket = socket;
    this.addr = socket.addr as Deno.NetAddr;
  }

  receive(buffer: Uint8Array): Promise<[Uint8Array, NetAddress]> {
    return this.#socket.receive(buffer) as Promise<[Uint8Array, Deno.NetAddr]>;
  }

  async send(data: Uint8Array, to: NetAddress): Promise<void> {
    await this.#socket.send(data, {
      transport: "udp",
      hostname: to.hostname,
      port: to.port,
    });
  }

  close(): void {
    this.#socket.close();
  }
}

/**
 * Sets TCP_NODELAY: the relay forwards what it reads at once, and Nagle's
 * algorithm would hold a split message's second write for the peer's
 * delayed ACK (about 40 ms).
 */
function _noDelay(conn: Deno.TcpConn): Deno.TcpConn {
  try {
    conn.setNoDelay(true);
  } catch {
    // Reset already: the first read or write reports it.
  }
  return conn;
}

/**
 * Deno's error classes, for errors that carry no POSIX code (the class is
 * all Deno gives for a few, such as a closed resource).
 */
const _KIND_BY_CLASS: ReadonlyArray<
  [new (...args: never[]) => Error, NetErrorKind]
> = [
  [Deno.errors.ConnectionRefused, "refused"],
  [Deno.errors.NetworkUnreachable, "network_unreachable"],
  [Deno.errors.AddrNotAvailable, "address_unavailable"],
  [Deno.errors.AddrInUse, "address_in_use"],
  [Deno.errors.TimedOut, "timed_out"],
  [Deno.errors.PermissionDenied, "permission_denied"],
  [Deno.errors.NotCapable, "permission_denied"],
  [Deno.errors.ConnectionReset, "aborted"],
  [Deno.errors.ConnectionAborted, "aborted"],
  [Deno.errors.NotConnected, "aborted"],
  [Deno.errors.BrokenPipe, "aborted"],
  [Deno.errors.BadResource, "closed"],
  [Deno.errors.Interrupted, "closed"],
];

/**
 * Turns what Deno threw into a `NetError`: by POSIX code when there is one,
 * else by Deno's error class.
 *
 * @param error What a Deno network call threw.
 * @returns The error to throw.
 */
export function denoNetError(error: unknown): unknown {
  const converted = toNetError(error);
  if (!(converted instanceof NetError) || converted.kind !== "other") {
    return converted;
  }
  for (const [type, kind] of _KIND_BY_CLASS) {
    if (error instanceof type) {
      return new NetError(kind, converted.message, { cause: error });
    }
  }
  return converted;
}
