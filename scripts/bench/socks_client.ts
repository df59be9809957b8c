/**
 * The load generator's own SOCKS5 client handshake (RFC 1928, RFC 1929).
 *
 * Deliberately independent of `src/`: the benchmark must measure the server,
 * not share its bugs, and it must run against other SOCKS5 servers too. It
 * builds every frame once and reuses its buffers, so a connection-rate loop
 * allocates nothing per iteration on the client side.
 *
 * @module
 */

/** Username/password credentials for RFC 1929 authentication. */
export interface Credentials {
  /** Username, 1–255 bytes of UTF-8. */
  user: string;
  /** Password, 1–255 bytes of UTF-8. */
  pass: string;
  /**
   * The password's stored hash, for a server to check it against (the
   * client always sends `pass`). @default undefined (plaintext)
   */
  hash?: string;
}

/**
 * Reads exactly `n` bytes into `buf[0, n)`.
 *
 * @throws {Deno.errors.UnexpectedEof} if the peer closes first.
 */
export async function readExact(
  conn: Deno.Conn,
  buf: Uint8Array,
  n: number,
): Promise<void> {
  let got = 0;
  while (got < n) {
    const r = await conn.read(buf.subarray(got, n));
    if (r === null) {
      throw new Deno.errors.UnexpectedEof(
        `Peer closed after ${got} of ${n} bytes`,
      );
    }
    got += r;
  }
}

/** Writes all of `buf`; `conn.write` may write only part of it. */
export async function writeAll(
  conn: Deno.Conn,
  buf: Uint8Array,
): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const n = await conn.write(done === 0 ? buf : buf.subarray(done));
    done += n;
  }
}

/** Options for {@link SocksHandshake}. */
export interface SocksHandshakeOptions {
  /** Credentials; when set, only method 0x02 is offered. @default undefined */
  credentials?: Credentials;
}

/**
 * A reusable SOCKS5 CONNECT handshake to one IPv4 destination.
 *
 * Sends the greeting, waits for the method choice, authenticates if asked,
 * then sends CONNECT and reads the whole reply. Each step waits for its
 * answer because strict servers need not accept pipelined frames.
 */
export class SocksHandshake {
  #greeting: Uint8Array;
  #auth: Uint8Array | undefined;
  #request: Uint8Array;
  // One scratch buffer per handshake object; callers use one object per worker.
  #scratch = new Uint8Array(262);

  /**
   * @param destination IPv4 address and port the proxy should CONNECT to.
   */
  constructor(
    destination: { hostname: string; port: number },
    options: SocksHandshakeOptions = {},
  ) {
    const octets = destination.hostname.split(".").map(Number);
    if (
      octets.length !== 4 ||
      !octets.every((o) => Number.isInteger(o) && o >= 0 && o <= 255)
    ) {
      throw new TypeError(
        `Destination must be an IPv4 address: "${destination.hostname}"`,
      );
    }
    const creds = options.credentials;
    this.#greeting = new Uint8Array([5, 1, creds ? 2 : 0]);
    if (creds) {
      const u = new TextEncoder().encode(creds.user);
      const p = new TextEncoder().encode(creds.pass);
      if (u.length < 1 || u.length > 255 || p.length < 1 || p.length > 255) {
        throw new RangeError("Username and password must be 1-255 bytes each");
      }
      this.#auth = new Uint8Array([1, u.length, ...u, p.length, ...p]);
    }
    this.#request = new Uint8Array([
      5,
      1,
      0,
      1,
      ...octets,
      destination.port >> 8,
      destination.port & 0xff,
    ]);
  }

  /**
   * Runs the handshake on a fresh connection to the proxy.
   *
   * @throws {Error} if the proxy refuses the method, the credentials or the
   *   CONNECT, or closes early.
   */
  async run(conn: Deno.Conn): Promise<void> {
    const s = this.#scratch;
    await writeAll(conn, this.#greeting);
    await readExact(conn, s, 2);
    if (s[0] !== 5 || s[1] !== this.#greeting[2]) {
      throw new Error(
        `Proxy chose method ${s[1]}, offered ${this.#greeting[2]}`,
      );
    }
    if (this.#auth) {
      await writeAll(conn, this.#auth);
      await readExact(conn, s, 2);
      if (s[1] !== 0) {
        throw new Error(`Proxy rejected credentials (status ${s[1]})`);
      }
    }
    await writeAll(conn, this.#request);
    // Every valid reply to CONNECT is at least 10 bytes (IPv4 form); read
    // that much in one go and only the rest for IPv6 or domain forms.
    await readExact(conn, s, 10);
    if (s[0] !== 5 || s[1] !== 0) {
      throw new Error(`Proxy replied ${s[1]} to CONNECT`);
    }
    const total = s[3] === 4 ? 22 : s[3] === 3 ? 7 + (s[4] ?? 0) : 10;
    if (total > 10) await readExact(conn, s.subarray(10), total - 10);
  }
}
