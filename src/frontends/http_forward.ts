/**
 * The client connection as the origin of a forwarded HTTP request sees it:
 * reads yield the rewritten request head and then exactly the request's
 * body; writes parse the origin's response head and hand the client a
 * rewritten one. So the CONNECT command relays a plain HTTP request without
 * knowing HTTP.
 *
 * @module
 */

import { writeAll } from "../core/relay.ts";
import {
  type BodyFraming,
  ChunkedBodyScanner,
  encodeClientResponseHead,
  encodeStatusResponse,
  HTTP_MAX_HEAD,
  HttpStatusError,
  parseResponseHead,
  splitHead,
} from "../protocol/http_proxy.ts";
import type { Connection, NetAddress } from "../runtime/transport.ts";

/** Bytes a client may send after its request before it is cut off. */
const _MAX_DISCARDED = 64 * 1024;

/**
 * One forwarded request on a client connection, with `Connection: close`
 * semantics: the origin gets the head and the body (by Content-Length or
 * chunked framing) and nothing more; anything the client sends after the
 * body (a pipelined request) is discarded, up to 64 KiB, and the response
 * tells the client the connection closes after it. The client's FIN is
 * forwarded when it comes.
 */
export class HttpForwardConnection implements Connection {
  #conn: Connection;
  #head: Uint8Array;
  #pending: Uint8Array;
  #remaining: number;
  #scanner: ChunkedBodyScanner | null;
  #discarded = 0;
  #response: Uint8Array | null = new Uint8Array(0);

  /**
   * Creates the view.
   *
   * @param conn The client connection.
   * @param head The rewritten request head, sent to the origin first.
   * @param pending Bytes already read from the client after its head.
   * @param framing How the request's body is delimited.
   */
  constructor(
    conn: Connection,
    head: Uint8Array,
    pending: Uint8Array,
    framing: BodyFraming,
  ) {
    this.#conn = conn;
    this.#head = head;
    this.#pending = pending;
    this.#remaining = framing.kind === "length" ? framing.length : 0;
    this.#scanner = framing.kind === "chunked"
      ? new ChunkedBodyScanner()
      : null;
  }

  /** The client connection's local address. */
  get localAddr(): NetAddress {
    return this.#conn.localAddr;
  }

  /** The client's address. */
  get remoteAddr(): NetAddress {
    return this.#conn.remoteAddr;
  }

  /** Reads the head, then the body; bytes past the body are discarded. */
  async read(buffer: Uint8Array): Promise<number | null> {
    if (this.#head.length > 0) {
      const n = Math.min(buffer.length, this.#head.length);
      buffer.set(this.#head.subarray(0, n));
      this.#head = this.#head.subarray(n);
      return n;
    }
    for (;;) {
      let n: number | null;
      if (this.#pending.length > 0) {
        n = Math.min(buffer.length, this.#pending.length);
        buffer.set(this.#pending.subarray(0, n));
        this.#pending = this.#pending.subarray(n);
      } else {
        n = await this.#conn.read(buffer);
        if (n === null) return null;
      }
      const body = this.#take(buffer.subarray(0, n));
      if (body > 0) return body;
      this.#discarded += n;
      if (this.#discarded > _MAX_DISCARDED) {
        throw new HttpStatusError(
          400,
          `Client sent over ${_MAX_DISCARDED} bytes after its request`,
        );
      }
    }
  }

  /** Writes the origin's response, its head rewritten. */
  async write(bytes: Uint8Array): Promise<number> {
    if (this.#response === null) return this.#conn.write(bytes);
    const buffered = new Uint8Array(this.#response.length + bytes.length);
    buffered.set(this.#response);
    buffered.set(bytes, this.#response.length);
    this.#response = buffered;
    try {
      await this.#flushHeads();
    } catch (error) {
      // The client still learns why, before the relay closes both sides.
      if (error instanceof HttpStatusError) {
        this.#response = null;
        await writeAll(this.#conn, encodeStatusResponse(502));
      }
      throw error;
    }
    return bytes.length;
  }

  /** Shuts the sending side toward the client (the origin's FIN). */
  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  /** Closes the client connection. */
  close(): void {
    this.#conn.close();
  }

  /** Bytes at the start of `chunk` that belong to the body. */
  #take(chunk: Uint8Array): number {
    if (this.#scanner) {
      return this.#scanner.done ? 0 : this.#scanner.feed(chunk);
    }
    const n = Math.min(chunk.length, this.#remaining);
    this.#remaining -= n;
    return n;
  }

  /** Passes every complete response head on; 1xx heads precede the final. */
  async #flushHeads(): Promise<void> {
    while (this.#response !== null) {
      const split = splitHead(this.#response);
      if (split === null) {
        if (this.#response.length > HTTP_MAX_HEAD) {
          throw new HttpStatusError(
            502,
            `Response head from the origin over ${HTTP_MAX_HEAD} bytes`,
          );
        }
        return;
      }
      const head = parseResponseHead(split.lines);
      const rest = this.#response.subarray(split.length);
      await writeAll(this.#conn, encodeClientResponseHead(head));
      // 1xx responses (100 Continue) come before the final one, whose head
      // is rewritten too; from the final head on, bytes pass unchanged.
      this.#response = head.status >= 200 ? null : rest;
      if (this.#response === null && rest.length > 0) {
        await writeAll(this.#conn, rest);
      }
    }
  }
}
