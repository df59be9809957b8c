/**
 * The PROXY protocol, versions 1 and 2 (HAProxy's specification,
 * "The PROXY protocol", 2020): the header a load balancer sends before the
 * client's bytes, naming the client it accepted the connection from.
 *
 * Version 1, one text line of at most 107 bytes:
 *
 * ```
 * "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport CRLF
 * "PROXY" SP "UNKNOWN" [anything] CRLF
 * ```
 *
 * Version 2, binary:
 *
 * ```
 * +------------------------------------+-----+-----+--------+---------
 * | signature 0D 0A 0D 0A 00 0D 0A 51  | ver | fam | len    | addresses
 * |           55 49 54 0A (12 bytes)   | cmd |     | (BE16) | then TLVs
 * +------------------------------------+-----+-----+--------+---------
 * ```
 *
 * ver/cmd: 0x20 LOCAL (the balancer's own connection, a health check),
 * 0x21 PROXY. fam: 0x11 TCP over IPv4 (12 address bytes: src, dst, sport,
 * dport), 0x21 TCP over IPv6 (36), 0x31 UNIX stream (216), 0x00 unspecified.
 * TLVs (type, BE16 length, value) follow the addresses; they are checked for
 * structure and skipped.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./ip.ts";
import type { ExactReader } from "./reader.ts";

/** The 12 bytes every version 2 header starts with. */
export const PROXY_V2_SIGNATURE: Uint8Array = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);

/** The longest version 1 line, CRLF included (the specification's bound). */
export const PROXY_V1_MAX_LINE = 107;
/**
 * The largest version 2 payload (addresses and TLVs) accepted. Balancers
 * send 12 or 36 address bytes and a few small TLVs; a bigger header is
 * refused rather than buffered.
 */
export const PROXY_V2_MAX_PAYLOAD = 1024;

/** An address in a PROXY header. */
export interface ProxyAddress {
  /** An IPv4 or IPv6 literal (no brackets). */
  hostname: string;
  /** The port. */
  port: number;
}

/** A parsed PROXY header. */
export interface ProxyHeader {
  /** 1 (text) or 2 (binary). */
  version: 1 | 2;
  /**
   * The client and the address it connected to, or `null` when the header
   * names none (LOCAL, UNKNOWN, UNIX or unspecified families): the socket's
   * own addresses apply then.
   */
  addresses: { source: ProxyAddress; destination: ProxyAddress } | null;
}

const _V1_PREFIX = "PROXY ";
const _PORT = /^(0|[1-9][0-9]{0,4})$/;

/**
 * Reads a PROXY protocol header of either version, strictly: anything that
 * is not exactly a header is refused.
 *
 * @param reader Exact reads from the connection.
 * @returns The header.
 * @throws {ProtocolError} When the bytes are not a valid header.
 * @throws {UnexpectedEofError} When the stream ends first.
 */
export async function readProxyHeader(
  reader: ExactReader,
): Promise<ProxyHeader> {
  const first = (await reader.readExact(1))[0]!;
  if (first === 0x50) return await _readV1(reader);
  if (first === 0x0d) return await _readV2(reader);
  throw new ProtocolError(
    `Expected a PROXY protocol header, got first byte 0x${
      first.toString(16).padStart(2, "0")
    }`,
  );
}

/**
 * Encodes a version 1 header.
 *
 * @param addresses Source and destination (same family), or `null` for
 * `PROXY UNKNOWN`.
 * @returns The header line.
 */
export function encodeProxyHeaderV1(
  addresses: { source: ProxyAddress; destination: ProxyAddress } | null,
): Uint8Array {
  if (addresses === null) {
    return new TextEncoder().encode("PROXY UNKNOWN\r\n");
  }
  const { source, destination } = addresses;
  const family = parseIPv4(source.hostname) ? "TCP4" : "TCP6";
  return new TextEncoder().encode(
    `PROXY ${family} ${source.hostname} ${destination.hostname} ${source.port} ${destination.port}\r\n`,
  );
}

/**
 * Encodes a version 2 header.
 *
 * @param addresses Source and destination (same family), or `null` for a
 * LOCAL header.
 * @param tlvs TLVs to append, as `[type, value]`.
 * @returns The header bytes.
 */
export function encodeProxyHeaderV2(
  addresses: { source: ProxyAddress; destination: ProxyAddress } | null,
  tlvs: ReadonlyArray<readonly [number, Uint8Array]> = [],
): Uint8Array {
  const parts: number[] = [...PROXY_V2_SIGNATURE];
  let body: number[] = [];
  if (addresses === null) {
    parts.push(0x20, 0x00);
  } else {
    const src = parseIPv4(addresses.source.hostname) ??
      parseIPv6(addresses.source.hostname)!;
    const dst = parseIPv4(addresses.destination.hostname) ??
      parseIPv6(addresses.destination.hostname)!;
    parts.push(0x21, src.length === 4 ? 0x11 : 0x21);
    body = [
      ...src,
      ...dst,
      addresses.source.port >> 8,
      addresses.source.port & 0xff,
      addresses.destination.port >> 8,
      addresses.destination.port & 0xff,
    ];
  }
  for (const [type, value] of tlvs) {
    body.push(type, value.length >> 8, value.length & 0xff, ...value);
  }
  parts.push(body.length >> 8, body.length & 0xff, ...body);
  return Uint8Array.from(parts);
}

async function _readV1(reader: ExactReader): Promise<ProxyHeader> {
  let line = "P";
  for (;;) {
    const byte = (await reader.readExact(1))[0]!;
    line += String.fromCharCode(byte);
    if (line.length <= _V1_PREFIX.length) {
      if (!_V1_PREFIX.startsWith(line)) _bad("version 1 prefix");
      continue;
    }
    if (byte === 0x0a) break;
    if (line.length >= PROXY_V1_MAX_LINE) _bad("version 1 line length");
  }
  if (!line.endsWith("\r\n")) _bad("version 1 line end");
  const parts = line.slice(0, -2).split(" ");
  if (parts[1] === "UNKNOWN") return { version: 1, addresses: null };
  if (parts.length !== 6) _bad("version 1 field count");
  const [, family, src, dst, sport, dport] = parts as string[] as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const parse = family === "TCP4"
    ? parseIPv4
    : family === "TCP6"
    ? parseIPv6
    : _bad(`version 1 protocol ${JSON.stringify(family)}`);
  const source = parse(src);
  const destination = parse(dst);
  if (!source || !destination) _bad("version 1 address");
  const format = family === "TCP4" ? formatIPv4 : formatIPv6;
  return {
    version: 1,
    addresses: {
      source: { hostname: format(source), port: _v1Port(sport) },
      destination: { hostname: format(destination), port: _v1Port(dport) },
    },
  };
}

async function _readV2(reader: ExactReader): Promise<ProxyHeader> {
  const signature = await reader.readExact(11);
  for (let i = 0; i < 11; i++) {
    if (signature[i] !== PROXY_V2_SIGNATURE[i + 1]) _bad("version 2 signature");
  }
  const fixed = await reader.readExact(4);
  const verCmd = fixed[0]!;
  const family = fixed[1]!;
  const length = (fixed[2]! << 8) | fixed[3]!;
  if (verCmd >> 4 !== 2) _bad("version 2 version nibble");
  const command = verCmd & 0x0f;
  if (command > 1) _bad(`version 2 command 0x${command.toString(16)}`);
  if (length > PROXY_V2_MAX_PAYLOAD) {
    _bad(`version 2 length ${length} (at most ${PROXY_V2_MAX_PAYLOAD})`);
  }
  const payload = length > 0 ? (await reader.readExact(length)).slice() : null;
  // LOCAL: the balancer speaks for itself; whatever follows is skipped.
  if (command === 0) return { version: 2, addresses: null };
  const transport = family & 0x0f;
  const addressFamily = family >> 4;
  if (addressFamily > 3 || transport > 2) _bad("version 2 family");
  if (addressFamily !== 0 && transport !== 1) {
    _bad("version 2 transport (only TCP streams are served)");
  }
  const size = [0, 12, 36, 216][addressFamily]!;
  const bytes = payload ?? new Uint8Array(0);
  if (bytes.length < size) _bad("version 2 address length");
  _checkTlvs(bytes.subarray(size));
  if (addressFamily !== 1 && addressFamily !== 2) {
    return { version: 2, addresses: null };
  }
  const ipLength = addressFamily === 1 ? 4 : 16;
  const format = addressFamily === 1 ? formatIPv4 : formatIPv6;
  const ports = bytes.subarray(2 * ipLength);
  return {
    version: 2,
    addresses: {
      source: {
        hostname: format(bytes.subarray(0, ipLength)),
        port: (ports[0]! << 8) | ports[1]!,
      },
      destination: {
        hostname: format(bytes.subarray(ipLength, 2 * ipLength)),
        port: (ports[2]! << 8) | ports[3]!,
      },
    },
  };
}

/** TLVs must tile the rest of the payload exactly. */
function _checkTlvs(bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 3) _bad("version 2 TLV header");
    const length = (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
    offset += 3 + length;
    if (offset > bytes.length) _bad("version 2 TLV length");
  }
}

function _v1Port(text: string): number {
  const port = Number(text);
  if (!_PORT.test(text) || port > 65535) _bad("version 1 port");
  return port;
}

function _bad(what: string): never {
  throw new ProtocolError(`Malformed PROXY protocol header: bad ${what}`);
}
