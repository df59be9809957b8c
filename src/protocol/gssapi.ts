/**
 * The GSS-API authentication method's messages (RFC 1961): context
 * establishment tokens (§3), the protection-level sub-negotiation (§4), the
 * per-message encapsulation of all further traffic (§5), and the abort.
 *
 * ```
 * every message but the abort                   abort (§3.8)
 * +------+------+------+.................+      +------+------+
 * + ver  | mtyp | len  |      token      |      + ver  | mtyp |
 * +------+------+------+.................+      +------+------+
 * + 0x01 | 0x01 | 0x02 | up to 2^16 - 1  |      + 0x01 | 0xff |
 * +------+------+------+.................+      +------+------+
 * ```
 *
 * MTYP X'01' carries a context-establishment token, X'02' the wrapped
 * protection level (one octet sealed with `gss_wrap`, conf_req FALSE), X'03'
 * encapsulated user data. LEN is two octets, network order.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import type { ExactReader } from "./reader.ts";

/** The sub-negotiation version byte of RFC 1961 (`ver`). */
export const GSS_VERSION = 0x01;

/** Message types (`mtyp`). */
export const GssMessageType = {
  /** X'01' security context establishment token. */
  CONTEXT: 0x01,
  /** X'02' protection-level sub-negotiation. */
  PROTECTION: 0x02,
  /** X'03' encapsulated user data. */
  DATA: 0x03,
  /** X'FF' abort: the peer refused; no length or token follows. */
  ABORT: 0xff,
} as const;

/** One message type byte. */
export type GssMessageType =
  (typeof GssMessageType)[keyof typeof GssMessageType];

/**
 * Protection levels (RFC 1961 §4.3). Level 0 is not in the RFC: curl asks
 * for it to mean "authentication only, no per-message protection".
 */
export const GssProtection = {
  /** X'00' no per-message protection (not RFC 1961; curl uses it). */
  NONE: 0x00,
  /** X'01' required per-message integrity. */
  INTEGRITY: 0x01,
  /** X'02' required per-message integrity and confidentiality. */
  CONFIDENTIALITY: 0x02,
  /** X'03' selective per-message integrity or confidentiality. */
  SELECTIVE: 0x03,
} as const;

/** One protection level byte. */
export type GssProtection = (typeof GssProtection)[keyof typeof GssProtection];

/** The largest token a message can carry (LEN is two octets). */
export const GSS_MAX_TOKEN = 0xffff;

/** One RFC 1961 message. */
export interface GssFrame {
  /** The message type. */
  type: GssMessageType;
  /** The token; empty for an abort. */
  token: Uint8Array;
}

/** The abort message, `01 ff`. */
export const GSS_ABORT: Uint8Array = Uint8Array.of(
  GSS_VERSION,
  GssMessageType.ABORT,
);

/** How much one `readExact` call may ask for (the frame reader's buffer). */
const _CHUNK = 1024;

/**
 * Reads one message: VER, MTYP and (unless it is an abort) LEN and TOKEN. A
 * token longer than the reader's buffer is read in pieces.
 *
 * @param reader An exact reader.
 * @returns The message; an abort has an empty token.
 * @throws {ProtocolError} When VER is not X'01', MTYP is unknown or LEN is 0.
 */
export async function readGssFrame(reader: ExactReader): Promise<GssFrame> {
  const head = await reader.readExact(2);
  const type = _checkHead(head[0]!, head[1]!);
  if (type === GssMessageType.ABORT) {
    return { type, token: new Uint8Array(0) };
  }
  const lengthBytes = await reader.readExact(2);
  const length = (lengthBytes[0]! << 8) | lengthBytes[1]!;
  if (length === 0) throw new ProtocolError("GSS-API message has length 0");
  const token = new Uint8Array(length);
  for (let offset = 0; offset < length;) {
    const piece = await reader.readExact(Math.min(_CHUNK, length - offset));
    token.set(piece, offset);
    offset += piece.length;
  }
  return { type, token };
}

/**
 * Decodes one message from a buffer that must hold exactly it (a UDP
 * datagram's payload, §5).
 *
 * @param bytes The message.
 * @returns The message.
 * @throws {ProtocolError} When the buffer is short, longer than the message,
 * or the header is invalid as for {@linkcode readGssFrame}.
 */
export function decodeGssFrame(bytes: Uint8Array): GssFrame {
  if (bytes.length < 2) {
    throw new ProtocolError(`GSS-API message of ${bytes.length} bytes`);
  }
  const type = _checkHead(bytes[0]!, bytes[1]!);
  if (type === GssMessageType.ABORT) {
    if (bytes.length !== 2) {
      throw new ProtocolError("GSS-API abort followed by extra bytes");
    }
    return { type, token: new Uint8Array(0) };
  }
  if (bytes.length < 4) {
    throw new ProtocolError(`GSS-API message of ${bytes.length} bytes`);
  }
  const length = (bytes[2]! << 8) | bytes[3]!;
  if (length === 0) throw new ProtocolError("GSS-API message has length 0");
  if (bytes.length !== 4 + length) {
    throw new ProtocolError(
      `GSS-API message says ${length} token bytes, carries ${bytes.length - 4}`,
    );
  }
  return { type, token: bytes.slice(4) };
}

/**
 * Encodes one message with a token.
 *
 * @param type X'01', X'02' or X'03'.
 * @param token 1 to 65535 bytes.
 * @returns `01 MTYP LEN TOKEN`.
 * @throws {RangeError} When the token is empty or too long, or `type` is the
 * abort (use {@linkcode GSS_ABORT}).
 */
export function encodeGssFrame(
  type: GssMessageType,
  token: Uint8Array,
): Uint8Array {
  if (type === GssMessageType.ABORT) {
    throw new RangeError("An abort carries no token: send GSS_ABORT");
  }
  if (token.length < 1 || token.length > GSS_MAX_TOKEN) {
    throw new RangeError(
      `A GSS-API token must be 1-${GSS_MAX_TOKEN} bytes, got ${token.length}`,
    );
  }
  const out = new Uint8Array(4 + token.length);
  out[0] = GSS_VERSION;
  out[1] = type;
  out[2] = token.length >> 8;
  out[3] = token.length & 0xff;
  out.set(token, 4);
  return out;
}

/**
 * Reads a message that must be of type `expected`.
 *
 * @param reader An exact reader.
 * @param expected The type the protocol step needs.
 * @returns The token.
 * @throws {GssAbortError} When the peer sent the abort.
 * @throws {ProtocolError} For any other type, or as for
 * {@linkcode readGssFrame}.
 */
export async function readGssToken(
  reader: ExactReader,
  expected: GssMessageType,
): Promise<Uint8Array> {
  const frame = await readGssFrame(reader);
  if (frame.type === GssMessageType.ABORT) throw new GssAbortError();
  if (frame.type !== expected) {
    throw new ProtocolError(
      `Expected GSS-API message type 0x${_hex(expected)}, got 0x${
        _hex(frame.type)
      }`,
    );
  }
  return frame.token;
}

/** The peer sent the abort message (`01 ff`). */
export class GssAbortError extends ProtocolError {
  /** Creates the instance. */
  constructor() {
    super("Peer aborted the GSS-API exchange");
    this.name = "GssAbortError";
  }
}

function _checkHead(version: number, type: number): GssMessageType {
  if (version !== GSS_VERSION) {
    throw new ProtocolError(
      `Unsupported GSS-API message version 0x${_hex(version)}`,
    );
  }
  if (
    type !== GssMessageType.CONTEXT && type !== GssMessageType.PROTECTION &&
    type !== GssMessageType.DATA && type !== GssMessageType.ABORT
  ) {
    throw new ProtocolError(`Unknown GSS-API message type 0x${_hex(type)}`);
  }
  return type;
}

function _hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
