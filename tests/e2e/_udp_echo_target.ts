/**
 * A local UDP echo server, the destination for UDP ASSOCIATE checks.
 *
 * @module
 */

/** A running UDP echo server; close it with `using` or {@link UdpEchoTarget.close}. */
export interface UdpEchoTarget extends AsyncDisposable {
  /** The IP literal it listens on. */
  readonly hostname: string;
  /** The ephemeral port it got. */
  readonly port: number;
  /** Payload sizes of the datagrams echoed so far. */
  readonly echoed: readonly number[];
  /** Closes the socket and waits for the receive loop to end. */
  close(): Promise<void>;
}

/**
 * Starts a UDP server that sends every datagram back to its sender unchanged.
 * Needs `"unstable": ["net"]` (set in deno.json) for `Deno.listenDatagram`.
 */
export function startUdpEcho(hostname = "127.0.0.1"): UdpEchoTarget {
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const echoed: number[] = [];
  const loop = (async () => {
    for (;;) {
      let datagram: [Uint8Array, Deno.Addr];
      try {
        datagram = await socket.receive();
      } catch {
        return; // socket closed
      }
      const [payload, from] = datagram;
      try {
        await socket.send(payload, from);
        echoed.push(payload.length);
      } catch {
        return; // socket closed while sending
      }
    }
  })();
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      socket.close();
      await loop;
    })();
  return {
    hostname,
    port: (socket.addr as Deno.NetAddr).port,
    echoed,
    close,
    [Symbol.asyncDispose]: close,
  };
}
