/**
 * The part of Bun's API the Bun adapter uses, declared here so that the
 * whole code base type-checks with `deno check` (Bun's own type package
 * would clash with Deno's globals). Each declaration matches Bun 1.4's
 * behaviour as measured for this adapter.
 *
 * @module
 */

/** A TCP socket from `Bun.listen` or `Bun.connect`. */
interface BunTcpSocket<Data> {
  /** Per-socket state set by the adapter. */
  data: Data;
  /** May be `undefined` for a peer that reset before the socket opened. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string;
  readonly localPort: number;
  /** Bytes the kernel accepted (Bun buffers nothing), or -1 when closed. */
  write(data: Uint8Array): number;
  /** Without an argument: shutdown(SHUT_WR), a FIN. */
  shutdown(readSide?: boolean): void;
  /** close(2). */
  end(): void;
  /** SO_LINGER 0, then close: a reset. */
  terminate(): void;
  /** Stops reading from the kernel. */
  pause(): void;
  /** Reads again. */
  resume(): void;
  setNoDelay(enabled: boolean): boolean;
}

/** Callbacks of a TCP socket. */
interface BunSocketHandler<Data> {
  open?(socket: BunTcpSocket<Data>): void;
  data?(socket: BunTcpSocket<Data>, data: Uint8Array): void;
  drain?(socket: BunTcpSocket<Data>): void;
  end?(socket: BunTcpSocket<Data>): void;
  close?(socket: BunTcpSocket<Data>, error?: Error): void;
  error?(socket: BunTcpSocket<Data>, error: Error): void;
  connectError?(socket: BunTcpSocket<Data>, error: Error): void;
}

/** A listening TCP socket. */
interface BunTcpListener {
  readonly hostname: string;
  readonly port: number;
  /** Stops listening; `true` also closes every accepted socket. */
  stop(closeActiveConnections?: boolean): void;
}

/** A bound UDP socket. */
interface BunUdpSocket {
  readonly address: { address: string; family: string; port: number };
  /** `false` when the datagram could not be queued; throws on EMSGSIZE. */
  send(data: Uint8Array, port: number, address: string): boolean;
  close(): void;
}

/** A running `Bun.serve` server. */
interface BunHttpServer {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

/** The global `Bun`. */
declare const Bun: {
  readonly version: string;
  /** The entry module's path; `/$bunfs/...` inside a compiled executable. */
  readonly main: string;
  listen<Data>(options: {
    hostname: string;
    port: number;
    reusePort?: boolean;
    allowHalfOpen?: boolean;
    socket: BunSocketHandler<Data>;
  }): BunTcpListener;
  connect<Data>(options: {
    hostname: string;
    port: number;
    localAddress?: string;
    allowHalfOpen?: boolean;
    socket: BunSocketHandler<Data>;
  }): Promise<BunTcpSocket<Data>>;
  udpSocket(options: {
    hostname?: string;
    port?: number;
    socket?: {
      data?(
        socket: BunUdpSocket,
        data: Uint8Array,
        port: number,
        address: string,
      ): void;
      error?(error: Error): void;
    };
  }): Promise<BunUdpSocket>;
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request): Response | Promise<Response>;
  }): BunHttpServer;
  file(path: string): { text(): Promise<string> };
};
