/**
 * The benchmark's destination servers, run as their own process so that
 * their CPU is not charged to the load generator or the proxy.
 *
 * Listens on 127.0.0.1, ephemeral ports, and prints one JSON line to stdout:
 * `{"echo":P1,"once":P2,"sink":P3,"source":P4}`.
 *
 * - echo: writes back whatever it reads;
 * - once: reads one 32-byte message, writes it back and closes first. The
 *   side that closes first keeps the TIME_WAIT entry; on the server side it
 *   pins no ephemeral port, so tens of thousands of connection-rate loops do
 *   not exhaust the client's (and the proxy's) ephemeral ports;
 * - sink: reads and discards;
 * - source: writes a fixed buffer until the peer goes away.
 *
 * Exits when stdin reaches EOF (its parent went away) or after `--lifetime`
 * seconds, whichever comes first.
 *
 * Usage: `deno run --allow-net=127.0.0.1 target.ts [--lifetime SECS]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { readExact, writeAll } from "./socks_client.ts";
import { ONCE_MESSAGE_BYTES } from "./workloads.ts";

/** Upper bound of accepted connections per listener over the process life. */
const MAX_ACCEPTS = 5_000_000;
/** Upper bound of read or write calls per connection. */
const MAX_OPS_PER_CONN = 100_000_000;

type _Handler = (conn: Deno.TcpConn, stop: AbortSignal) => Promise<void>;

async function _echo(conn: Deno.TcpConn, stop: AbortSignal): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  for (let i = 0; i < MAX_OPS_PER_CONN && !stop.aborted; i++) {
    const n = await conn.read(buf);
    if (n === null) return;
    await writeAll(conn, buf.subarray(0, n));
  }
}

/** Echo for request/response: answers at once, as interactive servers do. */
function _echoNoDelay(conn: Deno.TcpConn, stop: AbortSignal): Promise<void> {
  conn.setNoDelay(true);
  return _echo(conn, stop);
}

async function _once(conn: Deno.TcpConn): Promise<void> {
  const buf = new Uint8Array(ONCE_MESSAGE_BYTES);
  await readExact(conn, buf, ONCE_MESSAGE_BYTES);
  await writeAll(conn, buf);
  // _serve closes the connection as soon as this returns.
}

async function _sink(conn: Deno.TcpConn, stop: AbortSignal): Promise<void> {
  const buf = new Uint8Array(128 * 1024);
  for (let i = 0; i < MAX_OPS_PER_CONN && !stop.aborted; i++) {
    if ((await conn.read(buf)) === null) return;
  }
}

async function _source(conn: Deno.TcpConn, stop: AbortSignal): Promise<void> {
  const buf = new Uint8Array(128 * 1024).fill(0x5a);
  for (let i = 0; i < MAX_OPS_PER_CONN && !stop.aborted; i++) {
    await conn.write(buf);
  }
}

async function _serve(
  listener: Deno.TcpListener,
  handler: _Handler,
  open: Set<Deno.TcpConn>,
  stop: AbortSignal,
): Promise<void> {
  for (let i = 0; i < MAX_ACCEPTS && !stop.aborted; i++) {
    let conn: Deno.TcpConn;
    try {
      conn = await listener.accept();
    } catch {
      return; // listener closed on shutdown
    }
    open.add(conn);
    handler(conn, stop)
      // Peers reset connections all the time in a benchmark; not an error here.
      .catch(() => {})
      .finally(() => {
        open.delete(conn);
        try {
          conn.close();
        } catch {
          // already closed by shutdown
        }
      });
  }
}

async function _main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { lifetime: { type: "string", default: "1800" } },
  });
  const lifetimeSecs = Number(values.lifetime);
  if (!(lifetimeSecs > 0 && lifetimeSecs <= 86_400)) {
    throw new RangeError(
      `--lifetime must be in (0, 86400]: "${values.lifetime}"`,
    );
  }
  const stopper = new AbortController();
  const open = new Set<Deno.TcpConn>();
  const handlers: Record<string, _Handler> = {
    echo: _echo,
    once: _once,
    sink: _sink,
    source: _source,
    rr: _echoNoDelay,
  };
  const listeners = new Map<string, Deno.TcpListener>();
  for (const name of Object.keys(handlers)) {
    listeners.set(name, Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  }
  const ports = Object.fromEntries(
    [...listeners].map(([name, l]) => [name, l.addr.port]),
  );
  console.log(JSON.stringify(ports));

  const lifetime = setTimeout(() => stopper.abort(), lifetimeSecs * 1000);
  const served = [...listeners].map(([name, l]) =>
    _serve(l, handlers[name] as _Handler, open, stopper.signal)
  );
  // Parent gone (or done with us) => stdin EOF => stop.
  const parentGone = (async () => {
    const buf = new Uint8Array(256);
    for (let i = 0; i < 1_000_000 && !stopper.signal.aborted; i++) {
      if ((await Deno.stdin.read(buf)) === null) break;
    }
    stopper.abort();
  })();
  await new Promise<void>((resolve) =>
    stopper.signal.addEventListener("abort", () => resolve(), { once: true })
  );
  clearTimeout(lifetime);
  for (const l of listeners.values()) l.close();
  for (const c of open) {
    try {
      c.close();
    } catch {
      // already closed
    }
  }
  await Promise.allSettled(served);
  void parentGone; // a pending stdin read cannot be cancelled; exit below ends it
  Deno.exit(0);
}

if (import.meta.main) await _main();
