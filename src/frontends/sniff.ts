/**
 * The front door: tells protocols apart by a connection's first byte, which
 * it peeks without consuming.
 *
 * @module
 */

import type { FrontEnd } from "./front_end.ts";
import { socks5FrontEnd } from "./socks5.ts";

/** The first byte of each protocol served, and its front-end. */
const _BY_FIRST_BYTE: ReadonlyMap<number, FrontEnd> = new Map([
  [0x05, socks5FrontEnd],
]);

/**
 * Chooses the front-end for a connection from its first byte.
 *
 * @example
 * ```ts
 * import { frontEndFor } from "./sniff.ts";
 * frontEndFor(0x05); // the SOCKS5 front-end
 * frontEndFor(0x47); // null ("G": not served)
 * ```
 *
 * @param firstByte The byte peeked from the connection.
 * @returns The front-end, or `null` when no served protocol starts so (the
 * connection is closed without a reply: none is defined).
 */
export function frontEndFor(firstByte: number): FrontEnd | null {
  return _BY_FIRST_BYTE.get(firstByte) ?? null;
}
