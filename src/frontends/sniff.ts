/**
 * The front door: tells protocols apart by a connection's first byte, which
 * it peeks without consuming. SOCKS5 starts with its version 05, SOCKS4 and
 * SOCKS4A with 04, an HTTP request with the first letter of its method (an
 * upper-case ASCII letter: `CONNECT`, `GET`, …). TLS (16) and anything else
 * match nothing.
 *
 * @module
 */

import type { FrontEnd, ProtocolSwitches, ProxyProtocol } from "./front_end.ts";
import { httpFrontEnd } from "./http_proxy.ts";
import { socks4FrontEnd } from "./socks4.ts";
import { socks5FrontEnd } from "./socks5.ts";

/** A front-end with the protocol it speaks. */
export interface SniffedFrontEnd {
  /** The protocol label (access log, rules). */
  protocol: ProxyProtocol;
  /** The front-end. */
  frontEnd: FrontEnd;
}

const _SOCKS5: SniffedFrontEnd = {
  protocol: "socks5",
  frontEnd: socks5FrontEnd,
};
const _SOCKS4: SniffedFrontEnd = {
  protocol: "socks4",
  frontEnd: socks4FrontEnd,
};
const _HTTP: SniffedFrontEnd = { protocol: "http", frontEnd: httpFrontEnd };

/** Every protocol on. */
export const ALL_PROTOCOLS: ProtocolSwitches = Object.freeze({
  socks5: true,
  socks4: true,
  http: true,
});

/**
 * Chooses the front-end for a connection from its first byte.
 *
 * @example
 * ```ts
 * import { frontEndFor } from "./sniff.ts";
 * frontEndFor(0x05)?.protocol; // "socks5"
 * frontEndFor(0x43)?.protocol; // "http" ("C" of CONNECT)
 * frontEndFor(0x16); // null (a TLS handshake: not served)
 * ```
 *
 * @param firstByte The byte peeked from the connection.
 * @param enabled Which protocols are served.
 * @returns The front-end, or `null` when no served protocol starts so (the
 * connection is closed without a reply: none is defined).
 */
export function frontEndFor(
  firstByte: number,
  enabled: ProtocolSwitches = ALL_PROTOCOLS,
): SniffedFrontEnd | null {
  let found: SniffedFrontEnd | null = null;
  if (firstByte === 0x05) found = _SOCKS5;
  else if (firstByte === 0x04) found = _SOCKS4;
  else if (firstByte >= 0x41 && firstByte <= 0x5a) found = _HTTP;
  return found && enabled[found.protocol] ? found : null;
}
