/**
 * The soak's local destinations, all on 127.0.0.1: a TCP echo, a TCP target
 * that resets its connections mid-transfer, and a UDP echo.
 *
 * @module
 */

/** The running targets. */
export interface SoakTargets extends AsyncDisposable {
  /** Echoes every byte, half-closes after the client does. */
  echo: Deno.NetAddr;
  /** Reads 4 KiB, then closes with input unread: the kernel sends RST. */
  reset: Deno.NetAddr;
  /** Echoes every datagram to its sender. */
  udpEcho: Deno.NetAddr;
}

/**
 * Starts the targets.
 *
 * @returns Their addresses; dispose to stop them.
 */
export function startTargets(): SoakTargets {
  const echo = _tcp(async (conn) => {
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
  const reset = _tcp(async (conn) => {
    const buffer = new Uint8Array(4096);
    let got = 0;
    while (got < buffer.length) {
      const n = await conn.read(buffer.subarray(got));
      if (n === null) return;
      got += n;
    }
  });
  const udp = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const udpLoop = (async () => {
    const buffer = new Uint8Array(65_536);
    for (;;) {
      try {
        const [data, from] = await udp.receive(buffer);
        await udp.send(data, from);
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return;
        // A send to a closed client port: ignore and go on.
      }
    }
  })();
  return {
    echo: echo.addr,
    reset: reset.addr,
    udpEcho: udp.addr as Deno.NetAddr,
    async [Symbol.asyncDispose]() {
      try {
        udp.close();
      } catch { /* closed */ }
      await Promise.all([echo.close(), reset.close(), udpLoop]);
    },
  };
}

function _tcp(handle: (conn: Deno.TcpConn) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.TcpConn>();
  const tasks = new Set<Promise<void>>();
  const loop = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      conns.add(conn);
      const task = handle(conn).catch(() => {}).finally(() => {
        conns.delete(conn);
        try {
          conn.close();
        } catch { /* closed */ }
      });
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();
  return {
    addr: listener.addr,
    async close() {
      try {
        listener.close();
      } catch { /* closed */ }
      await loop;
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await Promise.all(tasks);
    },
  };
}
