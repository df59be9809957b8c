/**
 * Wire constants of RFC 1928 (SOCKS Protocol Version 5) and RFC 1929
 * (Username/Password Authentication for SOCKS V5).
 *
 * @module
 */

/** The protocol version byte that starts every SOCKS5 frame (`VER`). */
export const SOCKS_VERSION = 0x05;

/** The sub-negotiation version byte of RFC 1929 username/password auth. */
export const USERPASS_VERSION = 0x01;

/** Authentication methods offered in the greeting (`METHODS`). */
export const Method = {
  /** X'00' NO AUTHENTICATION REQUIRED */
  NO_AUTH: 0x00,
  /** X'01' GSSAPI (RFC 1961) */
  GSSAPI: 0x01,
  /** X'02' USERNAME/PASSWORD (RFC 1929) */
  USERPASS: 0x02,
  /** X'FF' NO ACCEPTABLE METHODS */
  NO_ACCEPTABLE: 0xff,
} as const;

/** One authentication method byte. */
export type Method = (typeof Method)[keyof typeof Method];

/** Request commands (`CMD`). */
export const Command = {
  /** X'01' CONNECT */
  CONNECT: 0x01,
  /** X'02' BIND */
  BIND: 0x02,
  /** X'03' UDP ASSOCIATE */
  UDP_ASSOCIATE: 0x03,
} as const;

/** One request command byte. */
export type Command = (typeof Command)[keyof typeof Command];

/** Address types (`ATYP`). */
export const AddressType = {
  /** X'01' IP V4 address: 4 octets */
  IPV4: 0x01,
  /** X'03' DOMAINNAME: one length octet, then that many octets */
  DOMAIN: 0x03,
  /** X'04' IP V6 address: 16 octets */
  IPV6: 0x04,
} as const;

/** One address type byte. */
export type AddressType = (typeof AddressType)[keyof typeof AddressType];

/** Reply codes (`REP`), RFC 1928 §6. */
export const Reply = {
  /** X'00' succeeded */
  SUCCEEDED: 0x00,
  /** X'01' general SOCKS server failure */
  GENERAL_FAILURE: 0x01,
  /** X'02' connection not allowed by ruleset */
  NOT_ALLOWED: 0x02,
  /** X'03' Network unreachable */
  NETWORK_UNREACHABLE: 0x03,
  /** X'04' Host unreachable */
  HOST_UNREACHABLE: 0x04,
  /** X'05' Connection refused */
  CONNECTION_REFUSED: 0x05,
  /** X'06' TTL expired */
  TTL_EXPIRED: 0x06,
  /** X'07' Command not supported */
  COMMAND_NOT_SUPPORTED: 0x07,
  /** X'08' Address type not supported */
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;

/** One reply code byte. */
export type Reply = (typeof Reply)[keyof typeof Reply];

/** RFC 1929 status byte for a successful authentication. */
export const USERPASS_SUCCESS = 0x00;

/** RFC 1929 status byte this server sends for a failed authentication. */
export const USERPASS_FAILURE = 0x01;

/** Human-readable names of the reply codes, for logs and error messages. */
export const REPLY_NAMES: Readonly<Record<number, string>> = {
  0x00: "succeeded",
  0x01: "general SOCKS server failure",
  0x02: "connection not allowed by ruleset",
  0x03: "network unreachable",
  0x04: "host unreachable",
  0x05: "connection refused",
  0x06: "TTL expired",
  0x07: "command not supported",
  0x08: "address type not supported",
};

/** Lower-case names of the commands, as they appear in logs. */
export const COMMAND_NAMES: Readonly<Record<number, string>> = {
  0x01: "connect",
  0x02: "bind",
  0x03: "udp_associate",
};
