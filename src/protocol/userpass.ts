/**
 * Username/password sub-negotiation (RFC 1929).
 *
 * ```
 * request                                          response
 * +----+------+----------+------+----------+       +----+--------+
 * |VER | ULEN |  UNAME   | PLEN |  PASSWD  |       |VER | STATUS |
 * +----+------+----------+------+----------+       +----+--------+
 * | 1  |  1   | 1 to 255 |  1   | 1 to 255 |       | 1  |   1    |
 * +----+------+----------+------+----------+       +----+--------+
 * ```
 *
 * VER is X'01'. STATUS X'00' is success; anything else is failure, after
 * which the server closes the connection.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { USERPASS_VERSION } from "./constants.ts";
import type { ExactReader } from "./reader.ts";

/** Credentials as they came off the wire. */
export interface UserPassRequest {
  /** The username, decoded as UTF-8 (invalid sequences replaced). */
  username: string;
  /** The password bytes, exactly as sent; never logged. */
  password: Uint8Array;
}

const _encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the username, not dropped.
const _decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Reads an RFC 1929 request.
 *
 * @param reader An exact reader.
 * @returns The credentials.
 * @throws {ProtocolError} When VER is not X'01' or ULEN or PLEN is 0 (the RFC
 * allows 1 to 255). The caller answers with a failure STATUS and closes.
 */
export async function readUserPassRequest(
  reader: ExactReader,
): Promise<UserPassRequest> {
  const head = await reader.readExact(2);
  if (head[0] !== USERPASS_VERSION) {
    throw new ProtocolError(
      `Unsupported username/password version 0x${
        head[0]!.toString(16).padStart(2, "0")
      }`,
    );
  }
  const userLength = head[1]!;
  if (userLength === 0) throw new ProtocolError("Username has length 0");
  const userAndLength = await reader.readExact(userLength + 1);
  const username = _decoder.decode(userAndLength.subarray(0, userLength));
  const passLength = userAndLength[userLength]!;
  if (passLength === 0) throw new ProtocolError("Password has length 0");
  const password = (await reader.readExact(passLength)).slice();
  return { username, password };
}

/**
 * Encodes an RFC 1929 request (client side).
 *
 * @param username 1–255 bytes of UTF-8.
 * @param password 1–255 bytes of UTF-8.
 * @returns The request frame.
 * @throws {RangeError} When either field is empty or longer than 255 bytes.
 */
export function encodeUserPassRequest(
  username: string,
  password: string,
): Uint8Array {
  const user = _encoder.encode(username);
  const pass = _encoder.encode(password);
  if (user.length < 1 || user.length > 255) {
    throw new RangeError(`Username must be 1-255 bytes, got ${user.length}`);
  }
  if (pass.length < 1 || pass.length > 255) {
    throw new RangeError(`Password must be 1-255 bytes, got ${pass.length}`);
  }
  const out = new Uint8Array(3 + user.length + pass.length);
  out[0] = USERPASS_VERSION;
  out[1] = user.length;
  out.set(user, 2);
  out[2 + user.length] = pass.length;
  out.set(pass, 3 + user.length);
  return out;
}

/**
 * Encodes the server's RFC 1929 answer.
 *
 * @param status X'00' for success, non-zero for failure.
 * @returns `01 STATUS`.
 */
export function encodeUserPassReply(status: number): Uint8Array {
  return Uint8Array.of(USERPASS_VERSION, status);
}

/**
 * Reads the server's RFC 1929 answer (client side).
 *
 * @param reader An exact reader.
 * @returns The STATUS byte.
 * @throws {ProtocolError} When VER is not X'01'.
 */
export async function readUserPassReply(reader: ExactReader): Promise<number> {
  const bytes = await reader.readExact(2);
  if (bytes[0] !== USERPASS_VERSION) {
    throw new ProtocolError(
      `Unexpected username/password reply version 0x${
        bytes[0]!.toString(16).padStart(2, "0")
      }`,
    );
  }
  return bytes[1]!;
}
