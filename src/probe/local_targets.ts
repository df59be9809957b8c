/**
 * The probe's own destinations on this host's loopback: a TCP echo (on
 * 127.0.0.1 and, where possible, ::1 at the same port), a TCP target that
 * answers only after the client's FIN, a UDP echo, and a port nobody
 * listens on.
 *
 * @module
 */

import { closeQuietly } from "../core/close_quietly.ts";
import { writeAll } from "../core/relay.ts";
import type {
  Connection,
  DatagramSocket,
  Listener,
  Network,
} from "../runtime/transport.ts";

/** The running targets. */
export interface LocalTargets extends AsyncDisposable {
  /** The TCP echo's port on 127.0.0.1. */
  echoPort: number;
  /** The port of the echo on ::1, or `null` when IPv6 loopback is missing. */
  echo6Port: number | null;
  /** Port of the target that answers `got N bytes` after the FIN. */
  afterEofPort: number;
  /** The UDP echo's port on 127.0.0.1. */
  udpEchoPort: number;
  /** A TCP port on 127.0.0.1 that refuses connections. */
  closedPort: number;
}

const _encoder = new TextEncoder();

/**
 * Starts the targets.
 *
 * @param network The sockets.
 * @returns The targets; dispose them to stop.
 */
export async function startLocalTargets(
  network: Network,
): Promise<LocalTargets> {
  const listeners: Listener[] = [];
  const sockets: DatagramSocket[] = [];
  const loops: Promise<void>[] = [];
  const conns = new Set<Connection>();
  const serve = (
    listener: Listener,
    handle: (c: Connection) => Promise<void>,
  ) => {
    listeners.push(listener);
    loops.push(_acceptLoop(listener, handle, conns));
  };
  try {
    const echo = await network.listen({ hostname: "127.0.0.1", port: 0 });
    serve(echo, _echo);
    let echo6Port: number | null = null;
    try {
      const echo6 = await network.listen({
        hostname: "::1",
        port: echo.addr.port,
      })
        .catch(() => network.listen({ hostname: "::1", port: 0 }));
      serve(echo6, _echo);
      echo6Port = echo6.addr.port;
    } catch {
      // No IPv6 loopback here: the IPv6 check is skipped.
    }
    const afterEof = await network.listen({ hostname: "127.0.0.1", port: 0 });
    serve(afterEof, _answerAfterEof);
    const closed = await network.listen({ hostname: "127.0.0.1", port: 0 });
    const closedPort = closed.addr.port;
    closed.close();
    const udp = await network.listenDatagram({
      hostname: "127.0.0.1",
      port: 0,
    });
    sockets.push(udp);
    loops.push(_udpEcho(udp));
    return {
      echoPort: echo.addr.port,
      echo6Port,
      afterEofPort: afterEof.addr.port,
      udpEchoPort: udp.addr.port,
      closedPort,
      async [Symbol.asyncDispose]() {
        for (const l of listeners) closeQuietly(l);
        for (const s of sockets) closeQuietly(s);
        for (const c of conns) closeQuietly(c);
        await Promise.all(loops);
      },
    };
  } catch (error) {
    for (const l of listeners) closeQuietly(l);
    for (const s of sockets) closeQuietly(s);
    await Promise.all(loops);
    throw error;
  }
}

async function _acceptLoop(
  listener: Listener,
  handle: (conn: Connection) => Promise<void>,
  conns: Set<Connection>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  for (;;) {
    let conn: Connection;
    try {
      conn = await listener.accept();
    } catch {
      break;
    }
    conns.add(conn);
    const task = handle(conn).catch(() => {}).finally(() => {
      conns.delete(conn);
      closeQuietly(conn);
    });
    running.add(task);
    task.finally(() => running.delete(task));
  }
  for (const conn of conns) closeQuietly(conn);
  await Promise.all(running);
}

async function _echo(conn: Connection): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    await writeAll(conn, buffer.subarray(0, n));
  }
  await conn.closeWrite();
}

async function _answerAfterEof(conn: Connection): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  let total = 0;
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    total += n;
  }
  await writeAll(conn, _encoder.encode(`got ${total} bytes`));
}

async function _udpEcho(socket: DatagramSocket): Promise<void> {
  const buffer = new Uint8Array(65_536);
  for (;;) {
    try {
      const [data, from] = await socket.receive(buffer);
      await socket.send(data.slice(), from);
    } catch {
      return;
    }
  }
}
