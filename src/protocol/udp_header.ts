/**
 * The header in front of every UDP datagram relayed by UDP ASSOCIATE
 * (RFC 1928 §7).
 *
 * ```
 * +----+------+------+----------+----------+----------+
 * |RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
 * +----+------+------+----------+----------+----------+
 * | 2  |  1   |  1   | Variable |    2     | Variable |
 * +----+------+------+----------+----------+----------+
 * ```
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { decodeAddress, encodeAddress, type SocksAddress } from "./address.ts";

/** A decoded UDP request datagram. */
export interface UdpDatagram {
  /** FRAG: 0 for a standalone datagram, else a fragment (RFC 1928 §7). */
  fragment: number;
  /** DST.ADDR and DST.PORT (or, from the server, the sender's address). */
  address: SocksAddress;
  /** DATA, a view into the datagram passed in. */
  data: Uint8Array;
}

/**
 * Decodes a UDP datagram with its SOCKS header.
 *
 * @param datagram One whole datagram.
 * @returns The header fields and a view of the payload.
 * @throws {ProtocolError} When the datagram is shorter than its header, RSV
 * is not zero, or the address is malformed.
 */
export function decodeUdpDatagram(datagram: Uint8Array): UdpDatagram {
  if (datagram.length < 4) {
    throw new ProtocolError(
      `UDP datagram of ${datagram.length} bytes is shorter than a header`,
    );
  }
  if (datagram[0] !== 0 || datagram[1] !== 0) {
    throw new ProtocolError("UDP header RSV is not zero");
  }
  const { address, end } = decodeAddress(datagram, 3);
  return { fragment: datagram[2]!, address, data: datagram.subarray(end) };
}

/**
 * Encodes a UDP datagram: header then payload.
 *
 * @param address DST (client to server) or the sender (server to client).
 * @param data The payload.
 * @returns One datagram.
 */
export function encodeUdpDatagram(
  address: SocksAddress,
  data: Uint8Array,
): Uint8Array {
  const header = encodeAddress(address);
  const out = new Uint8Array(3 + header.length + data.length);
  out.set(header, 3);
  out.set(data, 3 + header.length);
  return out;
}
