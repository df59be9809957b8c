/**
 * Round trips through a SOCKS5 proxy with the project's own client: a
 * payload to an echo target and back, compared byte for byte.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect } from "../../src/mod.ts";
import type { Connection } from "../../src/runtime/transport.ts";
import { payload } from "./targets.ts";

/**
 * Reads exactly `length` bytes.
 *
 * @param conn The connection.
 * @param length How many.
 * @returns The bytes.
 * @throws {Error} When the stream ends first.
 */
export async function readExactly(
  conn: Connection,
  length: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await conn.read(out.subarray(got));
    if (n === null) throw new Error(`EOF after ${got} of ${length} bytes`);
    got += n;
  }
  return out;
}

/**
 * CONNECTs through the proxy on 127.0.0.1 to an echo target, sends 100 kB
 * and asserts they come back unchanged.
 *
 * @param proxyPort The proxy's port on 127.0.0.1.
 * @param host The echo target's host as the client names it.
 * @param port The echo target's port.
 */
export async function echoThrough(
  proxyPort: number,
  host: string,
  port: number,
): Promise<void> {
  const { conn } = await connect({ host, port }, {
    proxy: { hostname: "127.0.0.1", port: proxyPort },
  });
  try {
    const data = payload(100_000, port);
    await Promise.all([
      (async () => {
        let written = 0;
        while (written < data.length) {
          written += await conn.write(data.subarray(written));
        }
      })(),
      readExactly(conn, data.length).then((back) =>
        assert.deepEqual(back, data)
      ),
    ]);
  } finally {
    conn.close();
  }
}
