/**
 * HTTP CONNECT (RFC 9110 §9.3.6) through an HTTP proxy over a connection
 * that is already open (a hop of an upstream chain).
 *
 * @module
 */

import { FrameReader } from "../core/frame_reader.ts";
import { writeAll } from "../core/relay.ts";
import { formatHostPort } from "../protocol/address.ts";
import { Reply } from "../protocol/constants.ts";
import { ProtocolError, SocksError } from "../protocol/errors.ts";
import type { Connection } from "../runtime/transport.ts";
import type { Destination } from "./handshake.ts";

/** The longest response head accepted from a proxy. */
const _MAX_HEAD = 16 * 1024;

const _encoder = new TextEncoder();
const _decoder = new TextDecoder();

/**
 * The RFC 1928 reply an HTTP proxy's refusal stands for: 403 and 407 →
 * X'02', 404 and 503 → X'04', 502 → X'05', 504 → X'06', anything else →
 * X'01'.
 *
 * @param status The response's status code.
 * @returns The REP byte.
 */
export function replyForHttpStatus(status: number): Reply {
  switch (status) {
    case 403:
    case 407:
      return Reply.NOT_ALLOWED;
    case 404:
    case 503:
      return Reply.HOST_UNREACHABLE;
    case 502:
      return Reply.CONNECTION_REFUSED;
    case 504:
      return Reply.TTL_EXPIRED;
    default:
      return Reply.GENERAL_FAILURE;
  }
}

/**
 * Encodes the CONNECT request.
 *
 * @param destination Host (name or IP literal) and port.
 * @param auth Basic credentials, if any.
 * @returns The request head.
 */
export function encodeHttpConnect(
  destination: Destination,
  auth: { username: string; password: string } | null,
): Uint8Array {
  const authority = formatHostPort(destination.host, destination.port);
  let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (auth !== null) {
    const token = btoa(
      String.fromCharCode(
        ..._encoder.encode(`${auth.username}:${auth.password}`),
      ),
    );
    head += `Proxy-Authorization: Basic ${token}\r\n`;
  }
  return _encoder.encode(`${head}\r\n`);
}

/**
 * Sends CONNECT on `conn` and reads the response head byte by byte, so
 * nothing after it is consumed and the connection then carries the
 * destination's bytes.
 *
 * @param conn A connection to the HTTP proxy.
 * @param destination Host (passed unresolved) and port.
 * @param auth Basic credentials, if any.
 * @throws {SocksError} With the mapped reply for a non-2xx status.
 * @throws {ProtocolError} For a response that is not HTTP.
 */
export async function httpConnect(
  conn: Connection,
  destination: Destination,
  auth: { username: string; password: string } | null,
): Promise<void> {
  await writeAll(conn, encodeHttpConnect(destination, auth));
  const reader = new FrameReader(conn, { greedy: false });
  const head: number[] = [];
  while (
    !(head.length >= 4 && head[head.length - 4] === 13 &&
      head[head.length - 3] === 10 && head[head.length - 2] === 13 &&
      head[head.length - 1] === 10)
  ) {
    if (head.length >= _MAX_HEAD) {
      throw new ProtocolError(
        `HTTP proxy response head exceeds ${_MAX_HEAD} bytes`,
      );
    }
    head.push((await reader.readExact(1))[0]!);
  }
  const statusLine = _decoder.decode(new Uint8Array(head)).split("\r\n")[0]!;
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) {
    throw new ProtocolError(
      `HTTP proxy sent ${
        JSON.stringify(statusLine.slice(0, 64))
      }, not a status line`,
    );
  }
  const status = Number(match[1]);
  if (status < 200 || status > 299) {
    throw new SocksError(
      replyForHttpStatus(status),
      `HTTP proxy answered CONNECT with ${
        JSON.stringify(statusLine.slice(0, 64))
      }`,
    );
  }
}
