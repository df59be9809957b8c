/**
 * Local TCP targets for CONNECT and BIND checks: an echo server and a
 * "half-close" server that answers only after it has seen the client's FIN.
 *
 * Both use `conn.read()`/`conn.write()` rather than `conn.readable`: in Deno,
 * EOF on `conn.readable` closes the whole socket, which would make it
 * impossible to answer after the peer's half-close.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** A running TCP target; close it with `await using` or {@link TcpTarget.close}. */
export interface TcpTarget extends AsyncDisposable {
  /** The IP literal it listens on. */
  readonly hostname: string;
  /** The ephemeral port it got. */
  readonly port: number;
  /** One entry per finished connection: how many bytes it received. */
  readonly received: readonly number[];
  /** Stops accepting, closes open connections, waits for their handlers. */
  close(): Promise<void>;
}

/** What a target does with one accepted connection; returns bytes received. */
type _Handler = (conn: Deno.TcpConn) => Promise<number>;

/**
 * Starts a TCP echo server: every byte is written back, and the client's FIN
 * is answered with a FIN once all echoed bytes are written.
 */
export function startTcpEcho(hostname = "127.0.0.1"): TcpTarget {
  return _startTcpTarget(hostname, async (conn) => {
    const buffer = new Uint8Array(64 * 1024);
    let total = 0;
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      total += n;
      await _writeAll(conn, buffer.subarray(0, n));
    }
    await conn.closeWrite();
    return total;
  });
}

/**
 * Starts a server that reads until the client half-closes, and only then
 * writes one line: `"<byte count> <sha256 hex>\n"` of everything it read.
 * A proxy that does not forward the client's FIN makes this hang; one that
 * closes both directions on FIN loses the answer.
 */
export function startHalfCloseTarget(hostname = "127.0.0.1"): TcpTarget {
  return _startTcpTarget(hostname, async (conn) => {
    const buffer = new Uint8Array(64 * 1024);
    const hash = createHash("sha256");
    let total = 0;
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      total += n;
      hash.update(buffer.subarray(0, n));
    }
    const answer = `${total} ${hash.digest("hex")}\n`;
    await _writeAll(conn, new TextEncoder().encode(answer));
    return total;
  });
}

function _startTcpTarget(hostname: string, handle: _Handler): TcpTarget {
  const listener = Deno.listen({ hostname, port: 0 });
  const open = new Set<Deno.TcpConn>();
  const handlers = new Set<Promise<void>>();
  const received: number[] = [];
  const accepting = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return; // listener closed
      }
      open.add(conn);
      const handler = handle(conn)
        .then((n) => void received.push(n))
        // A client that resets mid-stream is the test's business, not the
        // target's; the assertions on the client side report it.
        .catch(() => {})
        .finally(() => {
          open.delete(conn);
          _closeQuietly(conn);
          handlers.delete(handler);
        });
      handlers.add(handler);
    }
  })();
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      listener.close();
      await accepting;
      for (const conn of open) _closeQuietly(conn);
      await Promise.all(handlers);
    })();
  return {
    hostname,
    port: listener.addr.port,
    received,
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function _writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

function _closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed: close() on a Deno conn is not idempotent.
  }
}
