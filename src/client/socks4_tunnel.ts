/**
 * CONNECT through a SOCKS4 or SOCKS4a proxy over a connection that is
 * already open (a hop of an upstream chain).
 *
 * @module
 */

import { FrameReader } from "../core/frame_reader.ts";
import { writeAll } from "../core/relay.ts";
import { Reply } from "../protocol/constants.ts";
import { ProtocolError, SocksError } from "../protocol/errors.ts";
import { parseIPv4 } from "../protocol/ip.ts";
import type { Connection } from "../runtime/transport.ts";
import type { Destination } from "./handshake.ts";

/** SOCKS4 reply codes (CD of the reply). */
export const Socks4Reply = {
  /** 90: request granted. */
  GRANTED: 90,
  /** 91: request rejected or failed. */
  REJECTED: 91,
  /** 92: rejected, the server cannot reach the client's identd. */
  NO_IDENTD: 92,
  /** 93: rejected, identd reports a different user id. */
  IDENTD_MISMATCH: 93,
} as const;

const _encoder = new TextEncoder();

/**
 * Encodes a SOCKS4 CONNECT request, or a SOCKS4a one when the host is a
 * name (DSTIP 0.0.0.1, the name after the user id):
 *
 * ```text
 * +----+----+----+----+----+----+----+----+----+----+....+----+
 * | VN | CD | DSTPORT |      DSTIP        | USERID       |NULL|
 * +----+----+----+----+----+----+----+----+----+----+....+----+
 *    1    1      2              4           variable       1
 * ```
 *
 * @param destination An IPv4 literal, or a name (SOCKS4a).
 * @param userId The user id, possibly empty.
 * @returns The request bytes.
 * @throws {SocksError} REP X'08' for an IPv6 destination, which SOCKS4
 * cannot carry.
 */
export function encodeSocks4Connect(
  destination: Destination,
  userId: string,
): Uint8Array {
  const v4 = parseIPv4(destination.host);
  if (v4 === null && destination.host.includes(":")) {
    throw new SocksError(
      Reply.ADDRESS_TYPE_NOT_SUPPORTED,
      `SOCKS4 cannot carry the IPv6 destination ${destination.host}`,
    );
  }
  const user = _encoder.encode(userId);
  const name = v4 === null ? _encoder.encode(destination.host) : null;
  const out = new Uint8Array(
    9 + user.length + (name === null ? 0 : name.length + 1),
  );
  out[0] = 0x04;
  out[1] = 0x01;
  out[2] = destination.port >> 8;
  out[3] = destination.port & 0xff;
  out.set(v4 ?? [0, 0, 0, 1], 4);
  out.set(user, 8);
  if (name !== null) out.set(name, 9 + user.length);
  return out;
}

/**
 * The RFC 1928 reply a SOCKS4 refusal stands for: 91 (rejected or failed:
 * SOCKS4 cannot say which) → X'05', 92/93 (identd) → X'02'.
 *
 * @param code The reply's CD byte.
 * @returns The REP byte.
 */
export function replyForSocks4(code: number): Reply {
  if (code === Socks4Reply.NO_IDENTD || code === Socks4Reply.IDENTD_MISMATCH) {
    return Reply.NOT_ALLOWED;
  }
  return code === Socks4Reply.REJECTED
    ? Reply.CONNECTION_REFUSED
    : Reply.GENERAL_FAILURE;
}

/**
 * Sends a SOCKS4(a) CONNECT on `conn` and reads the 8-byte reply, reading
 * no further, so the connection then carries the destination's bytes.
 *
 * @param conn A connection to the SOCKS4 proxy.
 * @param destination IPv4 literal, or a name (SOCKS4a).
 * @param userId The user id.
 * @throws {SocksError} With the mapped reply when the proxy refused.
 * @throws {ProtocolError} For a reply that is not SOCKS4.
 */
export async function socks4Connect(
  conn: Connection,
  destination: Destination,
  userId: string,
): Promise<void> {
  await writeAll(conn, encodeSocks4Connect(destination, userId));
  const reply = await new FrameReader(conn, { greedy: false }).readExact(8);
  if (reply[0] !== 0x00) {
    throw new ProtocolError(
      `SOCKS4 proxy replied with version ${reply[0]}, expected 0`,
    );
  }
  if (reply[1] !== Socks4Reply.GRANTED) {
    throw new SocksError(
      replyForSocks4(reply[1]!),
      `SOCKS4 proxy refused with code ${reply[1]}`,
    );
  }
}
