/**
 * A deliberately dumb client for wire-level tests: writes exact bytes, reads
 * exact counts, reports EOF. Independent of the project's own client.
 *
 * @module
 */
import type { Connection, NetAddress } from "../../src/runtime/transport.ts";

/** A raw TCP connection with exact reads. */
export class RawClient implements Disposable {
  /** The connection. */
  readonly conn: Connection;
  #pending = new Uint8Array(0);

  /**
   * Wraps a connection.
   *
   * @param conn A TCP connection.
   */
  constructor(conn: Connection) {
    this.conn = conn;
  }

  /**
   * Connects to a server.
   *
   * @param addr Its address.
   * @returns The client.
   */
  static async open(
    addr: { hostname: string; port: number; transport?: string },
  ): Promise<RawClient> {
    return new RawClient(
      await Deno.connect({ hostname: addr.hostname, port: addr.port }),
    );
  }

  /**
   * Writes bytes given as hex ("05 01 00") or as an array.
   *
   * @param bytes What to write.
   */
  async send(bytes: string | Uint8Array): Promise<void> {
    const data = typeof bytes === "string" ? hex(bytes) : bytes;
    let written = 0;
    while (written < data.length) {
      written += await this.conn.write(data.subarray(written));
    }
  }

  /**
   * Reads exactly `length` bytes.
   *
   * @param length How many.
   * @returns The bytes.
   * @throws {Error} When the connection ends first (message says how many
   * bytes had arrived).
   */
  async read(length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let filled = 0;
    const take = Math.min(this.#pending.length, length);
    out.set(this.#pending.subarray(0, take));
    this.#pending = this.#pending.subarray(take);
    filled = take;
    while (filled < length) {
      const n = await this.conn.read(out.subarray(filled));
      if (n === null) {
        throw new Error(
          `EOF after ${filled} of ${length} bytes: ${
            toHex(out.subarray(0, filled))
          }`,
        );
      }
      filled += n;
    }
    return out;
  }

  /**
   * Reads exactly `length` bytes and returns them as hex.
   *
   * @param length How many.
   * @returns For example "05 00".
   */
  async readHex(length: number): Promise<string> {
    return toHex(await this.read(length));
  }

  /**
   * Reads until EOF.
   *
   * @returns Everything that arrived; throws if the connection was reset.
   */
  async readToEnd(): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [this.#pending];
    this.#pending = new Uint8Array(0);
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await this.conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const total = chunks.reduce((sum, c) => sum + c.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  /**
   * Tells whether the server has closed: EOF or reset on the next read.
   *
   * @returns `true` when closed with no further data.
   */
  async closedByPeer(): Promise<boolean> {
    try {
      return (await this.conn.read(new Uint8Array(1))) === null;
    } catch (error) {
      return error instanceof Deno.errors.ConnectionReset;
    }
  }

  /** Closes the connection (idempotent). */
  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  /** Same as close. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Parses hex with optional spaces: "05 01 00" → [5, 1, 0].
 *
 * @param text Hex digits.
 * @returns The bytes.
 */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new TypeError(`Bad hex fixture ${JSON.stringify(text)}`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

/**
 * Formats bytes as spaced lower-case hex.
 *
 * @param bytes The bytes.
 * @returns For example "05 00".
 */
export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * Encodes an IPv4 destination as ATYP + ADDR + PORT hex.
 *
 * @param addr An IPv4 address and port.
 * @returns Hex like "01 7f 00 00 01 1f 90".
 */
export function ipv4Hex(addr: NetAddress): string {
  const octets = addr.hostname.split(".").map((o) =>
    Number(o).toString(16).padStart(2, "0")
  );
  return `01 ${octets.join(" ")} ${portHex(addr.port)}`;
}

/**
 * Encodes a port as two hex bytes.
 *
 * @param port The port.
 * @returns For example "1f 90".
 */
export function portHex(port: number): string {
  return `${(port >> 8).toString(16).padStart(2, "0")} ${
    (port & 0xff).toString(16).padStart(2, "0")
  }`;
}
