/**
 * A Bun UDP socket as the core's pull-style `DatagramSocket`.
 *
 * @module
 */

/// <reference path="./bun_api.d.ts" />

import { NetError, toNetError } from "../net_error.ts";
import { openSockets, socketClosed } from "./descriptor_guard.ts";
import type { DatagramSocket, NetAddress } from "../transport.ts";

/**
 * Datagrams waiting for `receive()`. Beyond this, new ones are dropped, as a
 * full kernel receive buffer would.
 */
const _MAX_QUEUED = 1024;

type _Datagram = [Uint8Array, NetAddress];

/** One bound UDP socket. */
export class BunDatagramSocket implements DatagramSocket {
  readonly addr: NetAddress;
  #socket: BunUdpSocket;
  #queue: _Datagram[] = [];
  #waiting: {
    resolve: (datagram: _Datagram) => void;
    reject: (error: unknown) => void;
  } | null = null;
  #closed = false;

  private constructor(socket: BunUdpSocket) {
    this.#socket = socket;
    this.addr = { hostname: socket.address.address, port: socket.address.port };
    openSockets.count++;
  }

  /**
   * Binds a UDP socket.
   *
   * @param hostname The address to bind.
   * @param port The port; 0 picks one.
   * @returns The socket.
   */
  static async bind(
    hostname: string,
    port: number,
  ): Promise<BunDatagramSocket> {
    let self: BunDatagramSocket | null = null;
    const early: _Datagram[] = [];
    let socket: BunUdpSocket;
    try {
      socket = await Bun.udpSocket({
        hostname,
        port,
        socket: {
          data(_socket, data, fromPort, fromAddress) {
            const datagram: _Datagram = [
              data,
              { hostname: fromAddress, port: fromPort },
            ];
            if (self) self.#onDatagram(datagram);
            else early.push(datagram);
          },
          // Asynchronous send errors (an ICMP error queued for an earlier
          // datagram, EMSGSIZE reported late on IPv6) concern one datagram;
          // without a handler Bun would end the process.
          error() {},
        },
      });
    } catch (error) {
      throw toNetError(error);
    }
    self = new BunDatagramSocket(socket);
    for (const datagram of early) self.#onDatagram(datagram);
    return self;
  }

  receive(_buffer: Uint8Array): Promise<[Uint8Array, NetAddress]> {
    // Bun hands over a fresh buffer per datagram: it is returned as it is.
    const next = this.#queue.shift();
    if (next) return Promise.resolve(next);
    if (this.#closed) return Promise.reject(_closed());
    if (this.#waiting) {
      return Promise.reject(new TypeError("A receive is already pending"));
    }
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  send(data: Uint8Array, to: NetAddress): Promise<void> {
    if (this.#closed) return Promise.reject(_closed());
    try {
      if (!this.#socket.send(data, to.port, to.hostname)) {
        return Promise.reject(
          new NetError("exhausted", "UDP send buffer is full", {
            code: "ENOBUFS",
          }),
        );
      }
    } catch (error) {
      return Promise.reject(toNetError(error));
    }
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) throw _closed();
    this.#closed = true;
    socketClosed();
    this.#socket.close();
    this.#queue = [];
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.reject(_closed());
  }

  #onDatagram(datagram: _Datagram): void {
    if (this.#closed) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = null;
      waiting.resolve(datagram);
    } else if (this.#queue.length < _MAX_QUEUED) {
      this.#queue.push(datagram);
    }
  }
}

function _closed(): NetError {
  return new NetError("closed", "Socket is closed");
}
