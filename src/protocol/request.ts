/**
 * SOCKS requests and replies (RFC 1928 §4 and §6).
 *
 * ```
 * request                                   reply
 * +----+-----+-------+------+----------+----------+
 * |VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |   (request)
 * |VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |   (reply)
 * +----+-----+-------+------+----------+----------+
 * | 1  |  1  | X'00' |  1   | Variable |    2     |
 * +----+-----+-------+------+----------+----------+
 * ```
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import {
  type AddressType,
  Command,
  type Reply,
  SOCKS_VERSION,
} from "./constants.ts";
import {
  encodeAddress,
  readAddress,
  type SocksAddress,
  UNSPECIFIED_ADDRESS,
} from "./address.ts";
import type { ExactReader } from "./reader.ts";

/** A decoded request. */
export interface SocksRequest {
  /** The CMD byte; may be a value this server does not support. */
  command: number;
  /** DST.ADDR and DST.PORT. */
  destination: SocksAddress;
}

/** A decoded reply (client side). */
export interface SocksReply {
  /** The REP byte. */
  reply: number;
  /** BND.ADDR and BND.PORT. */
  bound: SocksAddress;
}

/**
 * Reads a request, exactly: nothing after DST.PORT is consumed, so data a
 * client pipelines behind the request stays in the stream.
 *
 * The whole request is read even when CMD is unknown, so that the server can
 * answer X'07' on a connection with nothing left unread (closing a socket
 * with unread input makes the kernel send RST, which can destroy the reply).
 *
 * @param reader An exact reader.
 * @returns The request.
 * @throws {ProtocolError} REP X'01' when VER is not X'05'; REP X'08' for an
 * unknown ATYP; REP X'01' for a malformed domain name.
 */
export async function readRequest(reader: ExactReader): Promise<SocksRequest> {
  const head = await reader.readExact(4);
  if (head[0] !== SOCKS_VERSION) {
    throw new ProtocolError(
      `Unsupported SOCKS version 0x${
        head[0]!.toString(16).padStart(2, "0")
      } in request`,
    );
  }
  // RSV (head[2]) is reserved; RFC 1928 gives it no meaning, so it is ignored
  // rather than used as a reason to refuse an otherwise valid request.
  const command = head[1]!;
  const destination = await readAddress(reader, head[3]!);
  return { command, destination };
}

/**
 * Encodes a request (client side).
 *
 * @param command The CMD byte.
 * @param destination DST.ADDR and DST.PORT.
 * @returns The request frame.
 */
export function encodeRequest(
  command: Command,
  destination: SocksAddress,
): Uint8Array {
  const address = encodeAddress(destination);
  const out = new Uint8Array(3 + address.length);
  out[0] = SOCKS_VERSION;
  out[1] = command;
  out.set(address, 3);
  return out;
}

/**
 * Encodes a reply. Every reply, failures included, is a complete RFC reply
 * of at least 10 bytes; where no real address exists it carries
 * 0.0.0.0:0.
 *
 * @param reply The REP byte.
 * @param bound BND.ADDR and BND.PORT.
 * @returns The reply frame.
 */
export function encodeReply(
  reply: Reply,
  bound: SocksAddress = UNSPECIFIED_ADDRESS,
): Uint8Array {
  const address = encodeAddress(bound);
  const out = new Uint8Array(3 + address.length);
  out[0] = SOCKS_VERSION;
  out[1] = reply;
  out.set(address, 3);
  return out;
}

/**
 * Reads a reply (client side).
 *
 * @param reader An exact reader.
 * @returns The reply.
 * @throws {ProtocolError} When VER is not X'05' or the address is malformed.
 */
export async function readReply(reader: ExactReader): Promise<SocksReply> {
  const head = await reader.readExact(4);
  if (head[0] !== SOCKS_VERSION) {
    throw new ProtocolError(
      `Unexpected SOCKS version 0x${
        head[0]!.toString(16).padStart(2, "0")
      } in reply`,
    );
  }
  const reply = head[1]!;
  const bound = await readAddress(reader, head[3]! as AddressType);
  return { reply, bound };
}

/** Tells whether a CMD byte is one of RFC 1928's three commands. */
export function isKnownCommand(command: number): command is Command {
  return command === Command.CONNECT || command === Command.BIND ||
    command === Command.UDP_ASSOCIATE;
}
