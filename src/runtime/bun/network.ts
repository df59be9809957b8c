/**
 * The transport seam on Bun: `Bun.listen`, `Bun.connect` and
 * `Bun.udpSocket`, which measured faster and lighter than `node:net` and
 * `node:dgram` under Bun (README, "Design").
 *
 * @module
 */

/// <reference path="./bun_api.d.ts" />

import { NetError, toNetError } from "../net_error.ts";
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
import { BUN_SOCKET_HANDLERS, BunConnection } from "./connection.ts";
import { BunDatagramSocket } from "./datagram.ts";
import { DescriptorGuard, waitForDescriptors } from "./descriptor_guard.ts";

/** Bun's network, through its own socket APIs. */
export const bunNetwork: Network = {
  canBindSource: true,

  listen(options: ListenOptions): Promise<Listener> {
    try {
      return Promise.resolve(new _BunListener(options));
    } catch (error) {
      return Promise.reject(toNetError(error));
    }
  },

  connect(options: ConnectOptions): Promise<Connection> {
    // Not an async function, and no object spread: this runs once per
    // CONNECT, and each async frame and copied object is paid per session.
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const connectOptions: BunConnectOptions = {
      hostname: options.hostname,
      port: options.port,
      allowHalfOpen: true,
      socket: _CONNECT_HANDLERS,
    };
    if (options.localAddress) {
      connectOptions.localAddress = options.localAddress;
    }
    let connecting: Promise<BunTcpSocket<BunConnection>>;
    try {
      connecting = Bun.connect<BunConnection>(connectOptions);
    } catch (error) {
      return Promise.reject(toNetError(error));
    }
    if (!signal) return connecting.then(_connectionOf, _connectFailed);
    return _raceAbort(connecting, signal);
  },

  listenDatagram(options: DatagramOptions): Promise<DatagramSocket> {
    return BunDatagramSocket.bind(options.hostname, options.port);
  },
};

/** One handler object for every outbound socket, not one per connect. */
const _CONNECT_HANDLERS: BunSocketHandler<BunConnection> = {
  ...BUN_SOCKET_HANDLERS,
  open: (socket) => void new BunConnection(socket),
};

/** The options `Bun.connect` takes, as this adapter passes them. */
type BunConnectOptions = Parameters<typeof Bun.connect<BunConnection>>[0];

function _connectionOf(socket: BunTcpSocket<BunConnection>): Connection {
  return socket.data;
}

function _connectFailed(error: unknown): never {
  throw toNetError(error);
}

/**
 * Bun.connect cannot be cancelled: an abort rejects at once, and a socket
 * that opens afterwards is closed.
 */
function _raceAbort(
  connecting: Promise<BunTcpSocket<BunConnection>>,
  signal: AbortSignal,
): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    connecting.then((socket) => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) socket.data.close();
      else resolve(socket.data);
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(signal.aborted ? signal.reason : toNetError(error));
    });
  });
}

/**
 * A push-style Bun listener as a pull-style one: accepted sockets wait in a
 * queue for `accept()`. Near the descriptor limit it stops listening and
 * `accept()` fails with kind `exhausted` until sockets have closed (see
 * `descriptor_guard.ts`).
 */
class _BunListener implements Listener {
  readonly addr: NetAddress;
  #options: ListenOptions;
  #server: BunTcpListener | null;
  #guard = new DescriptorGuard();
  #ready: Array<BunConnection | NetError> = [];
  #waiting: Array<{
    resolve: (conn: Connection) => void;
    reject: (error: unknown) => void;
  }> = [];
  #closed = false;

  constructor(options: ListenOptions) {
    this.#options = options;
    this.#server = this.#listen(options.port);
    this.addr = { hostname: this.#server.hostname, port: this.#server.port };
  }

  accept(): Promise<Connection> {
    const next = this.#ready.shift();
    if (next instanceof BunConnection) return Promise.resolve(next);
    if (next) return Promise.reject(next);
    if (this.#closed) {
      return Promise.reject(new NetError("closed", "Listener has been closed"));
    }
    if (this.#server === null) {
      if (!this.#guard.mayResume()) return Promise.reject(_exhausted());
      try {
        this.#server = this.#listen(this.addr.port);
      } catch (error) {
        return Promise.reject(toNetError(error));
      }
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
    });
  }

  close(): void {
    if (this.#closed) throw new NetError("closed", "Listener already closed");
    this.#closed = true;
    // Stop accepting; sessions already accepted go on.
    this.#server?.stop(false);
    this.#server = null;
    const closed = new NetError("closed", "Listener has been closed");
    for (const waiter of this.#waiting.splice(0)) waiter.reject(closed);
    for (const item of this.#ready.splice(0)) {
      if (item instanceof BunConnection) item.close();
    }
  }

  #listen(port: number): BunTcpListener {
    return Bun.listen<BunConnection>({
      hostname: this.#options.hostname,
      port,
      reusePort: this.#options.reusePort ?? false,
      allowHalfOpen: true,
      socket: {
        ...BUN_SOCKET_HANDLERS,
        open: (socket) => this.#onOpen(socket),
      },
    });
  }

  #onOpen(socket: BunTcpSocket<BunConnection>): void {
    // A peer that reset before the socket opened has no address: Bun opens
    // it anyway. Like an accept() failing with ECONNABORTED, it concerns
    // this one connection, which is dropped.
    const gone = socket.remoteAddress === undefined;
    const conn = new BunConnection(socket);
    const item = gone
      ? new NetError("aborted", "Peer reset the connection before accept", {
        code: "ECONNABORTED",
      })
      : conn;
    if (gone) socket.terminate();
    const waiter = this.#waiting.shift();
    if (!waiter) this.#ready.push(item);
    else if (item instanceof BunConnection) waiter.resolve(item);
    else waiter.reject(item);
    if (this.#server && this.#guard.mustStop()) {
      this.#server.stop(false);
      this.#server = null;
      for (const other of this.#waiting.splice(0)) other.reject(_exhausted());
      waitForDescriptors(this);
    }
  }

  /** Listens again once descriptors are free (sockets have closed). */
  resume(): void {
    if (this.#closed || this.#server !== null) return;
    if (!this.#guard.mayResume()) return waitForDescriptors(this);
    try {
      this.#server = this.#listen(this.addr.port);
    } catch {
      // accept() retries, and reports the failure to the accept loop.
    }
  }
}

function _exhausted(): NetError {
  return new NetError(
    "exhausted",
    "Too many open files: not listening until descriptors are free",
    { code: "EMFILE" },
  );
}
