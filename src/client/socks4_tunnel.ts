/**
 * CONNECT through a SOCKS4 or SOCKS4a proxy over a connection that is
 * already open (a hop of an upstream chain). The frames are the codecs of
 * `src/protocol/socks4.ts`, the same the SOCKS4 front-end uses.
 *
 * @module
 */

import { FrameReader } from "../core/frame_reader.ts";
import { writeAll } from "../core/relay.ts";
import { AddressType, Reply } from "../protocol/constants.ts";
import { SocksError } from "../protocol/errors.ts";
import { parseIPv4 } from "../protocol/ip.ts";
import {
  decodeSocks4Reply,
  encodeSocks4Request,
  Socks4Command,
  Socks4Reply,
} from "../protocol/socks4.ts";
import type { Connection } from "../runtime/transport.ts";
import type { Destination } from "./handshake.ts";

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
 * @throws {SocksError} With the mapped reply when the proxy refused; REP
 * X'08' for an IPv6 destination, which SOCKS4 cannot carry.
 * @throws {ProtocolError} For a reply that is not SOCKS4.
 */
export async function socks4Connect(
  conn: Connection,
  destination: Destination,
  userId: string,
): Promise<void> {
  const { host, port } = destination;
  const isIPv4 = parseIPv4(host) !== null;
  if (!isIPv4 && host.includes(":")) {
    throw new SocksError(
      Reply.ADDRESS_TYPE_NOT_SUPPORTED,
      `SOCKS4 cannot carry the IPv6 destination ${host}`,
    );
  }
  const type = isIPv4 ? AddressType.IPV4 : AddressType.DOMAIN;
  await writeAll(
    conn,
    encodeSocks4Request(Socks4Command.CONNECT, { type, host, port }, userId),
  );
  const reply = decodeSocks4Reply(
    await new FrameReader(conn, { greedy: false }).readExact(8),
  );
  if (reply.code !== Socks4Reply.GRANTED) {
    throw new SocksError(
      replyForSocks4(reply.code),
      `SOCKS4 proxy refused with code ${reply.code}`,
    );
  }
}
