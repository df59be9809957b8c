/**
 * The transport seam: the few network operations the core needs, in a form
 * every runtime can provide. The core (sessions, commands, relay, rules,
 * auth, observability, protocol) sees only these types; each runtime
 * implements them once under `src/runtime/<name>/`.
 *
 * @module
 */

/** An IP address and port, as a runtime reports a socket's end. */
export interface NetAddress {
  /** An IP literal (IPv6 without brackets). */
  hostname: string;
  /** The port, 0–65535. */
  port: number;
}

/**
 * A connected TCP stream, pull-style: the caller owns the buffers.
 *
 * Errors from `read` and `write` mean the connection is over (reset, closed
 * meanwhile); the core does not look at them further. Deno's TCP connection
 * satisfies this interface as it is.
 */
export interface Connection {
  /** This end's address. */
  readonly localAddr: NetAddress;
  /** The peer's address. */
  readonly remoteAddr: NetAddress;
  /**
   * Reads what has arrived into `buffer`, waiting for at least one byte.
   *
   * @param buffer Where to put the bytes; filled from index 0.
   * @returns How many bytes arrived (at least 1), or `null` at end of
   * stream (the peer's FIN).
   */
  read(buffer: Uint8Array): Promise<number | null>;
  /**
   * Writes bytes, resolving when the runtime has accepted them (so a slow
   * peer slows the writer down).
   *
   * @param bytes What to write; may be reused by the caller once resolved.
   * @returns How many bytes were accepted, at least 1.
   */
  write(bytes: Uint8Array): Promise<number>;
  /** Shuts down the sending side (TCP half-close: a FIN); reading goes on. */
  closeWrite(): Promise<void>;
  /** Closes both directions. Throws if already closed. */
  close(): void;
  /**
   * Optional fast path for the relay: moves bytes both ways between this
   * connection and `peer` inside the runtime (push-style, no promise per
   * chunk), forwarding each half-close, until both directions have ended or
   * one side failed. The caller closes both afterwards.
   *
   * @param peer The other end.
   * @param counters Bumped per chunk: `up` for bytes read from this
   * connection, `down` for bytes read from `peer`.
   * @returns When done; `null` when this runtime cannot splice with `peer`
   * (the relay's read/write loops run instead).
   */
  splice?(peer: Connection, counters: SpliceCounters): Promise<void> | null;
}

/** Live byte counts of a splice, one per direction. */
export interface SpliceCounters {
  /** Bytes from the connection `splice` was called on to its peer. */
  up: { bytes: number };
  /** Bytes from the peer to the connection `splice` was called on. */
  down: { bytes: number };
}

/** A listening TCP socket. */
export interface Listener {
  /** The bound address (port 0 resolved). */
  readonly addr: NetAddress;
  /**
   * Waits for the next connection.
   *
   * @returns It, with TCP_NODELAY already set.
   * @throws {NetError} Kind `closed` once the listener is closed; other
   * kinds for failures of one connection or of the process (see
   * `acceptFailureAction` in `src/core/accept_failure.ts`).
   */
  accept(): Promise<Connection>;
  /** Stops listening. A pending `accept()` rejects. */
  close(): void;
}

/** A bound UDP socket. */
export interface DatagramSocket {
  /** The bound address. */
  readonly addr: NetAddress;
  /**
   * Waits for the next datagram.
   *
   * @param buffer Room for the largest datagram expected (64 KiB).
   * @returns The datagram (a view of `buffer` or a fresh array, valid until
   * the next call) and its sender.
   */
  receive(buffer: Uint8Array): Promise<[Uint8Array, NetAddress]>;
  /**
   * Sends one datagram.
   *
   * @param data The payload.
   * @param to An IP literal and port.
   */
  send(data: Uint8Array, to: NetAddress): Promise<void>;
  /** Closes the socket; a pending `receive()` rejects. */
  close(): void;
}

/** Options of {@linkcode Network.listen}. */
export interface ListenOptions {
  /** An IP literal or a name the runtime resolves. */
  hostname: string;
  /** The port; 0 picks a free one. */
  port: number;
  /**
   * Set SO_REUSEPORT, so several processes or workers can share the port.
   * @default {false}
   */
  reusePort?: boolean;
}

/** Options of {@linkcode Network.connect}. */
export interface ConnectOptions {
  /** An IP literal (the core resolves names before it dials). */
  hostname: string;
  /** The port. */
  port: number;
  /** Aborts the attempt; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * The local address to bind before connecting (outbound address
   * selection); not every runtime can.
   */
  localAddress?: string;
}

/** Options of {@linkcode Network.listenDatagram}. */
export interface DatagramOptions {
  /** An IP literal to bind, `0.0.0.0` or `::` for any. */
  hostname: string;
  /** The port; 0 picks a free one. */
  port: number;
}

/**
 * Everything the core asks of a runtime's network stack.
 *
 * Failures are thrown as `NetError` (with a `kind` the reply table maps),
 * except the signal's reason when `connect` is aborted.
 */
export interface Network {
  /** Whether {@linkcode ConnectOptions.localAddress} is honoured. */
  readonly canBindSource: boolean;
  /**
   * Starts listening on a TCP port.
   *
   * @param options Address and flags.
   * @returns The listener.
   */
  listen(options: ListenOptions): Promise<Listener>;
  /**
   * Opens a TCP connection to one address, with TCP_NODELAY set.
   *
   * @param options Address, signal and optional source address.
   * @returns The connection.
   */
  connect(options: ConnectOptions): Promise<Connection>;
  /**
   * Binds a UDP socket.
   *
   * @param options Address to bind.
   * @returns The socket.
   */
  listenDatagram(options: DatagramOptions): Promise<DatagramSocket>;
}
