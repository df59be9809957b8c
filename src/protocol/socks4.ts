/**
 * SOCKS4 and SOCKS4A requests and replies (the SOCKS4 protocol document and
 * its SOCKS4A extension, both by Ying-Da Lee).
 *
 * Request (CONNECT: CD = 1, BIND: CD = 2):
 *
 * ```
 * +----+----+----+----+----+----+----+----+----+----+....+----+
 * | VN | CD | DSTPORT |      DSTIP        | USERID       |NULL|
 * +----+----+----+----+----+----+----+----+----+----+....+----+
 *    1    1      2              4           variable       1
 * ```
 *
 * SOCKS4A: a DSTIP of `0.0.0.x` with x ≠ 0 means the client could not resolve
 * the name, which follows the USERID's NULL, itself NULL-terminated.
 *
 * Reply (VN = 0):
 *
 * ```
 * +----+----+----+----+----+----+----+----+
 * | VN | CD | DSTPORT |      DSTIP        |
 * +----+----+----+----+----+----+----+----+
 *    1    1      2              4
 * ```
 *
 * CD 90 (0x5A) granted, 91 (0x5B) rejected or failed, 92 (0x5C) rejected
 * because the server cannot reach identd on the client, 93 (0x5D) rejected
 * because identd reports another user id.
 *
 * @module
 */

import { type SocksAddress, toSocksAddress } from "./address.ts";
import { AddressType } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { formatIPv4, parseIPv4 } from "./ip.ts";
import type { ExactReader } from "./reader.ts";

/** The version byte of a SOCKS4 request. */
export const SOCKS4_VERSION = 0x04;

/** SOCKS4 commands. */
export const Socks4Command = {
  /** CONNECT. */
  CONNECT: 0x01,
  /** BIND. */
  BIND: 0x02,
} as const;

/** SOCKS4 reply codes (CD of a reply). */
export const Socks4Reply = {
  /** 90: request granted. */
  GRANTED: 0x5a,
  /** 91: request rejected or failed. */
  REJECTED: 0x5b,
  /** 92: rejected, the server cannot connect to identd on the client. */
  NO_IDENTD: 0x5c,
  /** 93: rejected, identd and the client report different user ids. */
  IDENTD_MISMATCH: 0x5d,
} as const;

/** A SOCKS4 reply code. */
export type Socks4Reply = (typeof Socks4Reply)[keyof typeof Socks4Reply];

/** The longest USERID or SOCKS4A host name accepted, without its NULL. */
export const SOCKS4_MAX_FIELD = 255;

/** A SOCKS4 or SOCKS4A request. */
export interface Socks4Request {
  /** CD as sent (1 CONNECT, 2 BIND; others are refused by the front-end). */
  command: number;
  /**
   * The destination: an IPv4 address, or for SOCKS4A the name (or literal)
   * the client sent.
   */
  destination: SocksAddress;
  /** The USERID field (not a credential: nothing proves it). */
  userId: string;
  /** Whether the request used the SOCKS4A name extension. */
  socks4a: boolean;
}

const _decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
// The USERID is informational and often not text at all: decoded lossily.
const _lossy = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Reads one SOCKS4/4A request, the version byte included.
 *
 * @param reader Exact reads from the connection.
 * @returns The request.
 * @throws {ProtocolError} For a wrong version, a field over 255 bytes, an
 * empty or non-UTF-8 SOCKS4A name.
 * @throws {UnexpectedEofError} When the stream ends first.
 */
export async function readSocks4Request(
  reader: ExactReader,
): Promise<Socks4Request> {
  const head = await reader.readExact(8);
  if (head[0] !== SOCKS4_VERSION) {
    throw new ProtocolError(
      `Expected SOCKS version 0x04, got 0x${
        head[0]!.toString(16).padStart(2, "0")
      }`,
    );
  }
  const command = head[1]!;
  const port = (head[2]! << 8) | head[3]!;
  const ip = formatIPv4(head.subarray(4, 8));
  const socks4a = head[4] === 0 && head[5] === 0 && head[6] === 0 &&
    head[7] !== 0;
  const userId = _lossy.decode(await _readNulTerminated(reader, "USERID"));
  if (!socks4a) {
    return {
      command,
      destination: { type: AddressType.IPV4, host: ip, port },
      userId,
      socks4a,
    };
  }
  const name = await _readNulTerminated(reader, "SOCKS4A host name");
  if (name.length === 0) throw new ProtocolError("Empty SOCKS4A host name");
  return {
    command,
    destination: toSocksAddress(_text(name, "SOCKS4A host name"), port),
    userId,
    socks4a,
  };
}

/**
 * Encodes a SOCKS4/4A request (the client side, and tests).
 *
 * @param command CD.
 * @param destination An IPv4 destination, or a name (sent as SOCKS4A).
 * @param userId The USERID.
 * @returns The request bytes.
 * @throws {RangeError} For an IPv6 destination or a field over 255 bytes.
 */
export function encodeSocks4Request(
  command: number,
  destination: SocksAddress,
  userId = "",
): Uint8Array {
  if (destination.type === AddressType.IPV6) {
    throw new RangeError("SOCKS4 cannot carry an IPv6 destination");
  }
  const user = new TextEncoder().encode(userId);
  const v4 = destination.type === AddressType.IPV4
    ? parseIPv4(destination.host)
    : null;
  const name = v4 ? null : new TextEncoder().encode(destination.host);
  if (
    user.length > SOCKS4_MAX_FIELD || (name?.length ?? 0) > SOCKS4_MAX_FIELD
  ) {
    throw new RangeError(`SOCKS4 fields are at most ${SOCKS4_MAX_FIELD} bytes`);
  }
  const out = new Uint8Array(9 + user.length + (name ? name.length + 1 : 0));
  out[0] = SOCKS4_VERSION;
  out[1] = command;
  out[2] = destination.port >> 8;
  out[3] = destination.port & 0xff;
  out.set(v4 ?? Uint8Array.of(0, 0, 0, 1), 4);
  out.set(user, 8);
  if (name) out.set(name, 9 + user.length);
  return out;
}

/**
 * Encodes a SOCKS4 reply: VN 0, CD, DSTPORT, DSTIP.
 *
 * @param code One of {@linkcode Socks4Reply}.
 * @param bound The address to report; only IPv4 fits (an IPv4-mapped IPv6
 * address is sent as its IPv4 address). Anything else, or none, is sent as
 * `0.0.0.0` port 0, which tells a BIND client to use the server's address.
 * @returns The 8 reply bytes.
 */
export function encodeSocks4Reply(
  code: Socks4Reply,
  bound?: { host: string; port: number },
): Uint8Array {
  const out = new Uint8Array(8);
  out[1] = code;
  const host = bound?.host.startsWith("::ffff:")
    ? bound.host.slice(7)
    : bound?.host;
  const v4 = host === undefined ? null : parseIPv4(host);
  if (bound && v4) {
    out[2] = bound.port >> 8;
    out[3] = bound.port & 0xff;
    out.set(v4, 4);
  }
  return out;
}

/**
 * Decodes a SOCKS4 reply (the client side, and tests).
 *
 * @param bytes The 8 reply bytes.
 * @returns The code and the address.
 * @throws {ProtocolError} For a short frame or a VN other than 0.
 */
export function decodeSocks4Reply(
  bytes: Uint8Array,
): { code: number; port: number; host: string } {
  if (bytes.length !== 8 || bytes[0] !== 0) {
    throw new ProtocolError("Malformed SOCKS4 reply");
  }
  return {
    code: bytes[1]!,
    port: (bytes[2]! << 8) | bytes[3]!,
    host: formatIPv4(bytes.subarray(4, 8)),
  };
}

async function _readNulTerminated(
  reader: ExactReader,
  what: string,
): Promise<Uint8Array> {
  const bytes: number[] = [];
  for (;;) {
    const byte = (await reader.readExact(1))[0]!;
    if (byte === 0) return Uint8Array.from(bytes);
    if (bytes.length === SOCKS4_MAX_FIELD) {
      throw new ProtocolError(
        `${what} longer than ${SOCKS4_MAX_FIELD} bytes`,
      );
    }
    bytes.push(byte);
  }
}

function _text(bytes: Uint8Array, what: string): string {
  try {
    return _decoder.decode(bytes);
  } catch {
    throw new ProtocolError(`${what} is not valid UTF-8`);
  }
}
