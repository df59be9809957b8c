/**
 * The SOCKS5 codecs alone (RFC 1928, RFC 1929): constants, addresses, the
 * greeting, username/password, requests and replies, the UDP header, and IP
 * literal helpers. Pure functions over bytes: no sockets, no runtime
 * globals, nothing of the server or the client.
 *
 * ```ts
 * import { encodeRequest, Command, toSocksAddress } from "./mod.ts";
 *
 * const bytes = encodeRequest(Command.CONNECT, toSocksAddress("127.0.0.1", 80));
 * // 05 01 00 01 7f 00 00 01 00 50
 * ```
 *
 * @module
 */

export * from "./constants.ts";
export * from "./address.ts";
export * from "./errors.ts";
export * from "./greeting.ts";
export * from "./userpass.ts";
export * from "./request.ts";
export * from "./udp_header.ts";
export * from "./reader.ts";
export * from "./ip.ts";
export { embeddedIPv4 } from "./embedded_ipv4.ts";
