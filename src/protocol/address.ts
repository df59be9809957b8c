/**
 * The address block shared by requests, replies and UDP headers:
 *
 * ```
 * +------+----------+----------+
 * | ATYP | DST.ADDR | DST.PORT |
 * +------+----------+----------+
 * |  1   | Variable |    2     |
 * +------+----------+----------+
 * ```
 *
 * ATYP X'01' is 4 octets of IPv4, X'04' 16 octets of IPv6, X'03' one length
 * octet followed by that many octets of domain name (no terminating NUL).
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { AddressType, Reply } from "./constants.ts";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./ip.ts";
import type { ExactReader } from "./reader.ts";

/** A host and port as carried in a SOCKS5 frame. */
export interface SocksAddress {
  /** How the address is carried on the wire. */
  type: AddressType;
  /**
   * An IPv4 literal, an IPv6 literal (RFC 5952 form, no brackets) or a
   * domain name.
   */
  host: string;
  /** A port, 0–65535. */
  port: number;
}

/** The all-zero IPv4 address and port, for replies without a real address. */
export const UNSPECIFIED_ADDRESS: Readonly<SocksAddress> = Object.freeze({
  type: AddressType.IPV4,
  host: "0.0.0.0",
  port: 0,
});

const _encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in the name instead of silently dropping
// it, so the name rulesets and resolvers see is the name that was sent.
const _decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Builds a {@linkcode SocksAddress} from a host string, choosing the address
 * type from its form: IPv4 literal, IPv6 literal (brackets allowed), or
 * domain name.
 *
 * @param host A literal or a name.
 * @param port A port, 0–65535.
 * @returns The address.
 * @throws {RangeError} When the port is out of range or the name is empty or
 * longer than 255 bytes.
 */
export function toSocksAddress(host: string, port: number): SocksAddress {
  _checkPort(port);
  const bare = host.startsWith("[") && host.endsWith("]")
    ? host.slice(1, -1)
    : host;
  const v4 = parseIPv4(bare);
  if (v4) return { type: AddressType.IPV4, host: formatIPv4(v4), port };
  const v6 = parseIPv6(bare);
  if (v6) return { type: AddressType.IPV6, host: formatIPv6(v6), port };
  const length = _encoder.encode(bare).length;
  if (length < 1 || length > 255) {
    throw new RangeError(
      `Domain name must be 1-255 bytes, got ${length}: ${JSON.stringify(bare)}`,
    );
  }
  return { type: AddressType.DOMAIN, host: bare, port };
}

/**
 * Formats a host and port as `host:port`, with IPv6 literals in brackets.
 *
 * @param host An IP literal (no brackets) or a name.
 * @param port The port.
 * @returns For example `192.0.2.1:80` or `[2001:db8::1]:443`.
 */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Formats an address as `host:port`, with IPv6 in brackets.
 *
 * @param address The address.
 * @returns For example `192.0.2.1:80`, `[2001:db8::1]:443`, `example.org:80`.
 */
export function formatAddress(address: SocksAddress): string {
  return address.type === AddressType.IPV6
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/**
 * Encodes ATYP, ADDR and PORT.
 *
 * @param address The address to encode.
 * @returns The encoded bytes (7, 19, or 4 + name length).
 * @throws {RangeError} When the host does not fit its type or the port is
 * out of range.
 */
export function encodeAddress(address: SocksAddress): Uint8Array {
  _checkPort(address.port);
  let body: Uint8Array | null;
  switch (address.type) {
    case AddressType.IPV4:
      body = parseIPv4(address.host);
      break;
    case AddressType.IPV6:
      body = parseIPv6(address.host);
      break;
    case AddressType.DOMAIN: {
      const name = _encoder.encode(address.host);
      if (name.length < 1 || name.length > 255) body = null;
      else {
        body = new Uint8Array(name.length + 1);
        body[0] = name.length;
        body.set(name, 1);
      }
      break;
    }
    default:
      body = null;
  }
  if (!body) {
    throw new RangeError(
      `Cannot encode ${
        JSON.stringify(address.host)
      } as address type ${address.type}`,
    );
  }
  const out = new Uint8Array(1 + body.length + 2);
  out[0] = address.type;
  out.set(body, 1);
  out[out.length - 2] = address.port >> 8;
  out[out.length - 1] = address.port & 0xff;
  return out;
}

/**
 * Decodes ATYP, ADDR and PORT from a buffer (used for UDP datagrams, which
 * arrive whole).
 *
 * @param bytes The buffer.
 * @param offset Where ATYP is.
 * @returns The address and the offset just past the port.
 * @throws {ProtocolError} With REP X'08' for an unknown ATYP, X'01' when the
 * buffer is too short or the name is empty, not UTF-8 or has control
 * characters.
 */
export function decodeAddress(
  bytes: Uint8Array,
  offset: number,
): { address: SocksAddress; end: number } {
  const type = bytes[offset];
  if (type === undefined) throw new ProtocolError("Address is truncated");
  const isDomain = type === AddressType.DOMAIN;
  const start = offset + (isDomain ? 2 : 1);
  const size = isDomain ? _domainLength(bytes[offset + 1]) : _ipSize(type);
  const end = start + size + 2;
  if (end > bytes.length) throw new ProtocolError("Address is truncated");
  const body = bytes.subarray(start, start + size);
  const port = (bytes[end - 2]! << 8) | bytes[end - 1]!;
  return { address: _decodeBody(type, body, port), end };
}

/**
 * Reads ADDR and PORT from a stream, once ATYP is known. Reads exactly the
 * bytes of the address: nothing that follows is consumed.
 *
 * @param reader An exact reader.
 * @param type The ATYP byte already read.
 * @returns The address.
 * @throws {ProtocolError} With REP X'08' for an unknown ATYP, X'01' for an
 * empty, non-UTF-8 or control-character domain name.
 */
export async function readAddress(
  reader: ExactReader,
  type: number,
): Promise<SocksAddress> {
  const size = type === AddressType.DOMAIN
    ? _domainLength((await reader.readExact(1))[0])
    : _ipSize(type);
  const bytes = await reader.readExact(size + 2);
  const port = (bytes[size]! << 8) | bytes[size + 1]!;
  return _decodeBody(type, bytes.subarray(0, size), port);
}

function _checkPort(port: number): void {
  // Without this, 65536 would go out as port 0 and -1 as 65535.
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Port must be an integer 0-65535, got ${port}`);
  }
}

function _ipSize(type: number): number {
  if (type === AddressType.IPV4) return 4;
  if (type === AddressType.IPV6) return 16;
  throw new ProtocolError(
    `Unsupported address type 0x${type.toString(16).padStart(2, "0")}`,
    Reply.ADDRESS_TYPE_NOT_SUPPORTED,
  );
}

function _domainLength(length: number | undefined): number {
  if (length === undefined) throw new ProtocolError("Address is truncated");
  if (length === 0) throw new ProtocolError("Domain name has length 0");
  return length;
}

function _decodeBody(
  type: number,
  body: Uint8Array,
  port: number,
): SocksAddress {
  if (type === AddressType.IPV4) {
    return { type, host: formatIPv4(body), port };
  }
  if (type === AddressType.IPV6) {
    return { type, host: formatIPv6(body), port };
  }
  let host: string;
  try {
    host = _decoder.decode(body);
  } catch {
    throw new ProtocolError("Domain name is not valid UTF-8");
  }
  // NUL and other control characters have no place in a host name, and would
  // let a client smuggle text into logs or into a resolver.
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(host)) {
    throw new ProtocolError(
      `Domain name contains control characters: ${JSON.stringify(host)}`,
    );
  }
  return { type: AddressType.DOMAIN, host, port };
}
