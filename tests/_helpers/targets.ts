/**
 * Local destinations for tests: TCP echo, "answer after EOF" and UDP echo
 * servers on loopback, port 0.
 *
 * @module
 */

/** A running local target. */
export interface Target extends AsyncDisposable {
  /** Where it listens. */
  addr: Deno.NetAddr;
  /** Remote addresses of the connections it accepted, in order. */
  peers: Deno.NetAddr[];
  /** Stops it and waits for its connections to end. */
  close(): Promise<void>;
}

/**
 * Starts a TCP server that runs `handle` for each connection.
 *
 * @param hostname 127.0.0.1 or ::1.
 * @param handle Serves one connection; the connection is closed afterwards.
 * @returns The target.
 */
export function tcpTarget(
  hostname: string,
  handle: (conn: Deno.TcpConn) => Promise<void>,
): Target {
  const listener = Deno.listen({ hostname, port: 0 });
  const peers: Deno.NetAddr[] = [];
  const conns = new Set<Deno.TcpConn>();
  const running = new Set<Promise<void>>();
  const loop = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      peers.push(conn.remoteAddr);
      conns.add(conn);
      const task = handle(conn).catch(() => {}).finally(() => {
        conns.delete(conn);
        try {
          conn.close();
        } catch { /* closed by the handler */ }
      });
      running.add(task);
      task.finally(() => running.delete(task));
    }
  })();
  const close = async () => {
    try {
      listener.close();
    } catch { /* already closed */ }
    await loop;
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await Promise.all(running);
  };
  return {
    addr: listener.addr,
    peers,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Echoes every byte back, then half-closes when the client does. */
export function echoTarget(hostname = "127.0.0.1"): Target {
  return tcpTarget(hostname, async (conn) => {
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      let written = 0;
      while (written < n) {
        written += await conn.write(buffer.subarray(written, n));
      }
    }
    await conn.closeWrite();
  });
}

/**
 * Reads until the client's FIN, then answers with "got N bytes" and closes:
 * it only answers if the proxy forwarded the half-close.
 */
export function answerAfterEofTarget(hostname = "127.0.0.1"): Target {
  return tcpTarget(hostname, async (conn) => {
    const buffer = new Uint8Array(64 * 1024);
    let total = 0;
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      total += n;
    }
    await conn.write(new TextEncoder().encode(`got ${total} bytes`));
  });
}

/** Writes `bytes` to each connection, then closes it. */
export function sourceTarget(
  bytes: Uint8Array,
  hostname = "127.0.0.1",
): Target {
  return tcpTarget(hostname, async (conn) => {
    let written = 0;
    while (written < bytes.length) {
      written += await conn.write(bytes.subarray(written));
    }
    await conn.closeWrite();
  });
}

/** A running UDP echo server. */
export interface UdpTarget extends Disposable {
  /** Where it listens. */
  addr: Deno.NetAddr;
  /** Senders of the datagrams it echoed. */
  senders: Deno.NetAddr[];
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Echoes every datagram to its sender.
 *
 * @param hostname 127.0.0.1 or ::1.
 * @returns The target.
 */
export function udpEchoTarget(hostname = "127.0.0.1"): UdpTarget {
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const senders: Deno.NetAddr[] = [];
  const loop = (async () => {
    for (;;) {
      try {
        const [data, from] = await socket.receive();
        senders.push(from as Deno.NetAddr);
        await socket.send(data, from);
      } catch {
        return;
      }
    }
  })();
  const close = async () => {
    try {
      socket.close();
    } catch { /* already closed */ }
    await loop;
  };
  return {
    addr: socket.addr as Deno.NetAddr,
    senders,
    close,
    [Symbol.dispose]: () => {
      close();
    },
  };
}

/**
 * Deterministic pseudo-random bytes, so a failing payload can be reproduced.
 *
 * @param length How many bytes.
 * @param seed Any 32-bit number.
 * @returns The bytes.
 */
export function payload(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
