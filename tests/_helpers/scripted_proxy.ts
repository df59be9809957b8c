/**
 * A minimal HTTP CONNECT or SOCKS4/4a proxy on loopback whose answer is
 * fixed by the test: it records each request's bytes, answers with the
 * given status (HTTP) or reply code (SOCKS4), and on success connects to the
 * requested destination (names: `localhost` only) and relays.
 *
 * @module
 */

/** A running scripted proxy. */
export interface ScriptedProxy extends AsyncDisposable {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Each request's bytes, as a Latin-1 string. */
  requests: string[];
}

/**
 * Starts the proxy.
 *
 * @param kind Which protocol it speaks.
 * @param answer The HTTP status, or the SOCKS4 reply code (90 = granted).
 * @returns The proxy.
 */
export function scriptedProxy(
  kind: "http" | "socks4",
  answer: number,
): ScriptedProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: string[] = [];
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      conns.add(conn);
      const task = _serve(conn, kind, answer, requests, conns)
        .catch(() => {})
        .finally(() => {
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
    port: (listener.addr as Deno.NetAddr).port,
    requests,
    async [Symbol.asyncDispose]() {
      listener.close();
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

async function _serve(
  conn: Deno.Conn,
  kind: "http" | "socks4",
  answer: number,
  requests: string[],
  conns: Set<Deno.Conn>,
): Promise<void> {
  const one = new Uint8Array(1);
  const bytes: number[] = [];
  const next = async () => {
    if ((await conn.read(one)) !== 1) throw new Error("EOF");
    bytes.push(one[0]!);
    return one[0]!;
  };
  let host: string;
  let port: number;
  if (kind === "http") {
    while (!String.fromCharCode(...bytes).endsWith("\r\n\r\n")) await next();
    const text = String.fromCharCode(...bytes);
    requests.push(text);
    const authority = text.split(" ")[1]!;
    const colon = authority.lastIndexOf(":");
    host = authority.slice(0, colon).replace(/^\[|\]$/g, "");
    port = Number(authority.slice(colon + 1));
    const ok = answer >= 200 && answer < 300;
    await conn.write(
      new TextEncoder().encode(
        `HTTP/1.1 ${answer} ${ok ? "Connection established" : "Refused"}\r\n` +
          (ok ? "" : "Content-Length: 0\r\n") + "\r\n",
      ),
    );
    if (!ok) return;
  } else {
    for (let i = 0; i < 8; i++) await next();
    while ((await next()) !== 0) { /* user id */ }
    const ip = bytes.slice(4, 8);
    port = (bytes[2]! << 8) | bytes[3]!;
    if (ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0) {
      const start = bytes.length;
      while ((await next()) !== 0) { /* name */ }
      host = String.fromCharCode(...bytes.slice(start, -1));
    } else host = ip.join(".");
    requests.push(String.fromCharCode(...bytes));
    await conn.write(new Uint8Array([0, answer, 0, 0, 0, 0, 0, 0]));
    if (answer !== 90) return;
  }
  const target = await Deno.connect({
    hostname: host === "localhost" ? "127.0.0.1" : host,
    port,
  });
  conns.add(target);
  try {
    await Promise.all([
      conn.readable.pipeTo(target.writable, { preventClose: true })
        .then(() => target.closeWrite()),
      target.readable.pipeTo(conn.writable, { preventClose: true })
        .then(() => conn.closeWrite()),
    ]).catch(() => {});
  } finally {
    conns.delete(target);
    try {
      target.close();
    } catch { /* closed */ }
  }
}
